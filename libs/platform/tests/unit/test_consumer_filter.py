"""A consumer may refuse events by their headers before any work (R-BUS-3 plumbing)."""

from crm_contracts.envelope import CloudEvent
from crm_platform.consumer import Delivered, IdempotentConsumer, subject_type_in


def delivered(subject: str) -> Delivered:
    event = CloudEvent(type="t", source="/s", subject=subject, account_id=1, data={})
    return Delivered("topic", 0, 0, None, event.value(), tuple(event.headers()))


def test_subject_filter_keeps_only_the_named_record_types():
    accepts = subject_type_in(["calls", "meetings"])
    assert accepts([("ce_type", b"t"), ("ce_subject", b"calls/12")])
    assert not accepts([("ce_subject", b"contacts/12")])
    assert not accepts([("ce_subject", b"callsx/12")])
    assert not accepts([])


async def test_filtered_out_events_never_reach_the_store():
    class NoStore:
        def acquire(self):
            raise AssertionError("a filtered-out batch must not touch the store")

    async def dead_letter(*args):
        raise AssertionError("nothing is parked")

    consumer = IdempotentConsumer(name="c", service="s", pool=NoStore(),  # type: ignore[arg-type]
                                  handle=None, dead_letter=dead_letter,  # type: ignore[arg-type]
                                  accepts=subject_type_in(["deals"]))
    await consumer.consume([delivered("contacts/1"), delivered("calls/2")])
