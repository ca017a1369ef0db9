"""The appeal loop on the shipped diagram: state stays bounded, 500 rounds still complete."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from complaints_app.extensions import db
from complaints_app.models import WorkflowInstance
from tests.test_paths import appeal_once, escalate, finish_after_resolution, reviewed


def state_size(complaint) -> int:
    return len(db.session.scalar(select(WorkflowInstance.state).where(
        WorkflowInstance.complaint_id == complaint.id)))


@pytest.mark.slow
def test_five_hundred_appeals_still_complete(people, register, open_task, complete):
    complaint = register(people.staff)
    escalate(people, complaint, open_task, complete)
    complete(people.investigator, open_task(complaint, "Investigate"), root_cause="policy", decision="rejected",
             decision_reasons="Not covered")
    reviewed(complaint, open_task, complete)
    sizes = []
    for _ in range(500):
        appeal_once(people, complaint, open_task, complete)
        sizes.append(state_size(complaint))
    assert max(sizes) <= sizes[0] * 1.2, (sizes[0], max(sizes))
    finish_after_resolution(people, complaint, open_task, complete)
