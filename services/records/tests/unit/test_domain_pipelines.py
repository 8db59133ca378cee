import pytest

from crm_records.domain.errors import (
    InvalidPipeline,
    MissingRequiredProperties,
    UnknownPipelineStage,
)
from crm_records.domain.pipelines import (
    DEFAULT_DEAL_PIPELINE,
    DEFAULT_PIPELINES,
    DEFAULT_TICKET_PIPELINE,
    Pipeline,
    Stage,
    check_stage_move,
    deal_stage,
    pipeline_property_names,
)


# R-PIPE-1
def test_the_default_deal_pipeline_matches_the_hosted_one():
    assert DEFAULT_DEAL_PIPELINE.id == "default"
    assert [(s.id, s.probability) for s in DEFAULT_DEAL_PIPELINE.ordered_stages] == [
        ("appointmentscheduled", 0.2), ("qualifiedtobuy", 0.4), ("presentationscheduled", 0.6),
        ("decisionmakerboughtin", 0.8), ("contractsent", 0.9), ("closedwon", 1.0),
        ("closedlost", 0.0)]
    assert DEFAULT_DEAL_PIPELINE.stage("closedwon").metadata == {
        "isClosed": "true", "probability": "1.0"}
    assert DEFAULT_DEAL_PIPELINE.stage("qualifiedtobuy").metadata == {
        "isClosed": "false", "probability": "0.4"}


# R-PIPE-1
def test_closed_won_and_closed_lost_are_told_apart():
    won, lost = DEFAULT_DEAL_PIPELINE.stage("closedwon"), DEFAULT_DEAL_PIPELINE.stage("closedlost")
    assert won.is_closed_won and not won.is_closed_lost
    assert lost.is_closed_lost and not lost.is_closed_won
    open_stage = DEFAULT_DEAL_PIPELINE.stage("contractsent")
    assert not (open_stage.is_closed or open_stage.is_closed_won or open_stage.is_closed_lost)


# R-PIPE-1
def test_the_default_ticket_pipeline_matches_the_hosted_one():
    assert DEFAULT_TICKET_PIPELINE.id == "0"
    assert [(s.id, s.label, s.metadata["ticketState"]) for s in DEFAULT_TICKET_PIPELINE.stages] == [
        ("1", "New", "OPEN"), ("2", "Waiting on contact", "OPEN"), ("3", "Waiting on us", "OPEN"),
        ("4", "Closed", "CLOSED")]
    assert DEFAULT_TICKET_PIPELINE.stage("4").is_closed


# R-PIPE-1
def test_deals_tickets_and_services_each_have_a_default_pipeline():
    assert set(DEFAULT_PIPELINES) == {"deals", "tickets", "services"}
    assert pipeline_property_names("deals") == ("pipeline", "dealstage")
    assert pipeline_property_names("tickets") == ("hs_pipeline", "hs_pipeline_stage")
    assert pipeline_property_names("2-123") == ("hs_pipeline", "hs_pipeline_stage")


# R-PIPE-1
@pytest.mark.parametrize("stages", [
    (),
    (deal_stage("a", "A", 0, 0.5), deal_stage("a", "A again", 1, 0.5)),
    (deal_stage("a", "A", 0, 1.5),),
    (Stage("a", "A", 0, ticket_state="PENDING"),),
])
def test_a_malformed_pipeline_is_refused(stages):
    with pytest.raises(InvalidPipeline) as raised:
        Pipeline("p", "P", 0, stages)
    assert raised.value.reasons


# R-PIPE-2
def test_entering_a_stage_without_its_required_properties_lists_what_is_missing():
    pipeline = Pipeline("p", "P", 0, (
        deal_stage("open", "Open", 0, 0.1),
        Stage("won", "Won", 1, is_closed=True, probability=1.0,
              required_properties=("amount", "closedate", "closed_won_reason")),
    ))
    with pytest.raises(MissingRequiredProperties) as raised:
        check_stage_move(pipeline, "won", {"amount": "100", "closedate": "", "dealname": "x"})
    assert raised.value.stage_id == "won"
    assert raised.value.missing == ["closedate", "closed_won_reason"]
    assert "closedate" in raised.value.message
    check_stage_move(pipeline, "won", {"amount": "1", "closedate": "2024-01-01T00:00:00.000Z",
                                       "closed_won_reason": "price"})
    check_stage_move(pipeline, "open", {})


# R-PIPE-2
def test_an_unknown_stage_is_refused():
    with pytest.raises(UnknownPipelineStage) as raised:
        check_stage_move(DEFAULT_DEAL_PIPELINE, "nowhere", {})
    assert (raised.value.pipeline_id, raised.value.stage_id) == ("default", "nowhere")
