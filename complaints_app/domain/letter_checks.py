"""Deploy checks of what a diagram says about letters: a letter type that exists, a letter held for review
that a task reviews, reviews and signatures that name real user tasks, customer-facing marks on text."""

from __future__ import annotations

from .letter_templates import renderer


def letter_problems(elements: dict[str, dict]) -> list[dict]:
    """Problems of a compiled version's elements, each naming its element."""
    problems: list[dict] = []
    user_tasks = {i for i, e in elements.items() if e["manual"] and e.get("form") is not None}
    known_types = set(renderer().letter_types())
    reviewed = {e["properties"].get("review_letter") for e in elements.values() if e["properties"].get("review_letter")}

    def problem(element, message):
        problems.append({"element_id": element["id"], "element_name": element["name"], "message": message})

    def user_tasks_named(element, prop):
        for name in filter(None, (p.strip() for p in (element["properties"].get(prop) or "").split(","))):
            if name not in user_tasks:
                problem(element, f"{prop} names '{name}', which is not a user task of this diagram")

    for element in elements.values():
        props = element["properties"]
        if element.get("topic") == "create_letter":
            letter_type = props.get("letter_type")
            if letter_type and letter_type not in known_types:
                problem(element, f"letter_type '{letter_type}' has no template; letters are "
                                 f"{', '.join(sorted(known_types))}")
            if props.get("review") == "true" and element["id"] not in reviewed:
                problem(element, "the letter is held for review (review=true) but no user task reviews it: give a "
                                 "user task the property review_letter naming this step")
            user_tasks_named(element, "signed_by")
        if props.get("review_letter"):
            target = elements.get(props["review_letter"])
            if target is None or target.get("topic") != "create_letter" or target["properties"].get("review") != "true":
                problem(element, f"review_letter names '{props['review_letter']}', which is not a create_letter step "
                                 "with review=true")
            fields = {f["id"]: f for f in element.get("form") or []}
            if fields.get("letter_approved", {}).get("type") != "boolean":
                problem(element, "a review task needs the yes/no field letter_approved (send the letter, or not)")
        user_tasks_named(element, "assignee_of")
        for field in element.get("form") or []:
            mark = (field.get("properties") or {}).get("customer_facing")
            if mark is not None and (mark not in ("true", "false") or field["type"] != "string"):
                problem(element, f"field {field['id']}: customer_facing is true or false, on text fields only")
    return problems
