"""Operations: verbs with the actor passed in. They flush, never commit."""
