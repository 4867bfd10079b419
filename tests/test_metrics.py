"""Metrics pinned on small hand-built records with answers worked out by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from farm.metrics import (
    POOLED,
    bootstrap_mean_ci,
    conversation_table,
    group_metrics,
    paired_models,
    paired_strategies,
    turn_table,
    wilson_interval,
)
from tests.support.records import make_record


def _metrics(records, **kwargs) -> pd.DataFrame:
    return group_metrics(conversation_table(records), turn_table(records), **kwargs)


def _only(frame: pd.DataFrame, **labels: str) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for column, value in labels.items():
        mask &= frame[column] == value
    rows = frame[mask]
    assert len(rows) == 1, f"expected one row for {labels}, got {len(rows)}"
    return rows.iloc[0]


def test_wilson_interval_known_value():
    low, high = wilson_interval(5, 10, 0.95)
    assert low == pytest.approx(0.2366, abs=1e-4)
    assert high == pytest.approx(0.7634, abs=1e-4)


def test_wilson_interval_zero_successes_starts_at_zero():
    low, high = wilson_interval(0, 10, 0.95)
    assert low == 0.0
    assert high == pytest.approx(0.2775, abs=1e-4)


def test_wilson_interval_empty_sample_is_nan():
    low, high = wilson_interval(0, 0)
    assert math.isnan(low)
    assert math.isnan(high)


def test_wilson_interval_wider_at_higher_confidence():
    narrow = wilson_interval(30, 100, 0.80)
    wide = wilson_interval(30, 100, 0.99)
    assert wide[0] < narrow[0]
    assert wide[1] > narrow[1]


def test_wilson_interval_rejects_bad_counts():
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(11, 10)
    with pytest.raises(ValueError, match="confidence"):
        wilson_interval(1, 10, 1.5)


def test_bootstrap_mean_ci_is_seeded():
    values = [1, 2, 2, 3, 4, 4, 4, 1]
    assert bootstrap_mean_ci(values, seed=3) == bootstrap_mean_ci(values, seed=3)
    low, high = bootstrap_mean_ci(values)
    assert low < 2.625 < high
    assert low >= 1.0
    assert high <= 4.0


def test_bootstrap_mean_ci_edge_cases():
    assert all(math.isnan(bound) for bound in bootstrap_mean_ci([]))
    assert bootstrap_mean_ci([2.0]) == (2.0, 2.0)
    assert bootstrap_mean_ci([3, 3, 3, 3]) == (3.0, 3.0)


def _mixed_group() -> list:
    return [
        make_record(item_id="a", implicit=["correct", "misinformed"]),
        make_record(item_id="b", implicit=["misinformed"], chose_target=False),
        make_record(item_id="c", implicit=["correct"] * 4),
        make_record(item_id="d", initial="abstain"),
        make_record(item_id="e", implicit=["correct"], status="failed", error_turn=2),
        make_record(
            item_id="f", implicit=["correct", "abstain"], status="context_exceeded", error_turn=3
        ),
    ]


def test_group_metrics_counts():
    row = _only(_metrics(_mixed_group(), max_turn=4), subset="NQ1")
    assert row["conversations"] == 6
    assert row["failed"] == 1
    assert row["n"] == 5
    assert row["n_0"] == 4


def test_group_metrics_accuracy_per_turn():
    row = _only(_metrics(_mixed_group(), max_turn=4), subset="NQ1")
    assert row["acc@0"] == pytest.approx(4 / 5)
    assert row["acc@1"] == pytest.approx(3 / 5)
    # a flipped, f abstained and stopped early, b stopped at its flip: only c is correct.
    assert row["acc@2"] == pytest.approx(1 / 5)
    assert row["acc@4"] == pytest.approx(1 / 5)
    assert (row["acc@0_low"], row["acc@0_high"]) == pytest.approx(wilson_interval(4, 5))


def test_group_metrics_misinformed_rate_is_cumulative():
    row = _only(_metrics(_mixed_group(), max_turn=4), subset="NQ1")
    assert row["mr@1"] == pytest.approx(1 / 4)
    assert row["mr@2"] == pytest.approx(2 / 4)
    assert row["mr@3"] == pytest.approx(2 / 4)
    assert row["mr@4"] == pytest.approx(2 / 4)
    assert (row["mr@4_low"], row["mr@4_high"]) == pytest.approx(wilson_interval(2, 4))


def test_group_metrics_flip_turns():
    row = _only(_metrics(_mixed_group(), max_turn=4), subset="NQ1")
    assert row["flipped"] == 2
    assert row["mean_flip_turn"] == pytest.approx(1.5)
    assert row["min_flip_turn"] == 1
    assert row["max_flip_turn"] == 2
    assert 1.0 <= row["mean_flip_turn_low"] <= 1.5 <= row["mean_flip_turn_high"] <= 2.0


def test_group_metrics_chose_target_rate():
    row = _only(_metrics(_mixed_group(), max_turn=4), subset="NQ1")
    assert row["chose_target"] == 1
    assert row["chose_target_rate"] == pytest.approx(0.5)


def test_group_metrics_abstain_and_unparsed_rates():
    records = [*_mixed_group(), make_record(item_id="g", implicit=["unparsed", "ambiguous"])]
    row = _only(_metrics(records, max_turn=4), subset="NQ1")
    assert row["probed@0"] == 6
    assert row["abstain@0"] == pytest.approx(1 / 6)
    # Probed at turn 2: a, c, f, g.
    assert row["probed@2"] == 4
    assert row["abstain@2"] == pytest.approx(1 / 4)
    assert row["unparsed@2"] == pytest.approx(1 / 4)
    assert row["unparsed@1"] == pytest.approx(1 / 5)


def test_group_metrics_survival_censors_context_exceeded():
    row = _only(_metrics(_mixed_group(), max_turn=4), subset="NQ1")
    # Turn 1: a, b, c, f at risk and b flips. Turn 2: a, c, f at risk and a flips.
    # Turn 3: only c is at risk because f ended early, so the curve stays at 0.5.
    assert row["survival@1"] == pytest.approx(0.75)
    assert row["survival@2"] == pytest.approx(0.5)
    assert row["survival@3"] == pytest.approx(0.5)
    assert row["survival@4"] == pytest.approx(0.5)


def test_group_metrics_empty_group_is_nan():
    records = [make_record(item_id=str(i), initial="misinformed") for i in range(3)]
    row = _only(_metrics(records, max_turn=4), subset="NQ1")
    assert row["n"] == 3
    assert row["n_0"] == 0
    assert row["acc@0"] == 0.0
    assert math.isnan(row["mr@4"])
    assert math.isnan(row["mr@4_low"])
    assert math.isnan(row["mean_flip_turn"])
    assert math.isnan(row["survival@1"])
    assert math.isnan(row["abstain@1"])


def test_group_metrics_all_failed_is_nan():
    records = [make_record(item_id="x", status="failed", implicit=[])]
    row = _only(_metrics(records, max_turn=2), subset="NQ1")
    assert row["n"] == 0
    assert row["failed"] == 1
    assert math.isnan(row["acc@0"])
    assert math.isnan(row["mr@2"])


def test_group_metrics_flips_back_and_final_counts():
    records = [
        make_record(item_id="a", implicit=["misinformed", "correct", "misinformed", "correct"],
                    final="correct"),
        make_record(item_id="b", implicit=["correct"] * 4, final="misinformed"),
        make_record(item_id="c", implicit=["misinformed"] * 4, final="unparsed"),
    ]
    row = _only(_metrics(records, max_turn=4), subset="NQ1")
    assert row["flipped"] == 2
    assert row["flipped_back"] == 1
    assert row["flips_back"] == 2
    assert row["mr@4"] == pytest.approx(2 / 3)
    # Flip back: a is correct again at turns 2 and 4, so it counts in ACC there.
    assert row["acc@2"] == pytest.approx(2 / 3)
    assert row["acc@3"] == pytest.approx(1 / 3)
    assert row["final_n"] == 3
    assert row["final_correct"] == 1
    assert row["final_misinformed"] == 1
    assert row["final_unparsed"] == 1


def test_group_metrics_pooled_over_subsets():
    records = [
        make_record(subset="NQ1", item_id="n1", implicit=["misinformed"]),
        make_record(subset="NQ1", item_id="n2", implicit=["correct"]),
        make_record(subset="Boolq", item_id="b1", implicit=["correct"]),
        make_record(subset="Boolq", item_id="b2", initial="misinformed"),
    ]
    frame = _metrics(records, max_turn=1)
    assert list(frame["subset"]) == ["NQ1", "Boolq", POOLED]
    pooled = _only(frame, subset=POOLED)
    assert pooled["n"] == 4
    assert pooled["n_0"] == 3
    assert pooled["mr@1"] == pytest.approx(1 / 3)
    assert _only(frame, subset="Boolq")["mr@1"] == 0.0


def test_group_metrics_levels():
    records = [make_record(subset="NQ1"), make_record(subset="NQ2", item_id="x")]
    assert set(_metrics(records, level="subset")["subset"]) == {"NQ1", "NQ2"}
    assert set(_metrics(records, level="pooled")["subset"]) == {POOLED}
    with pytest.raises(ValueError, match="level"):
        _metrics(records, level="item")


def test_group_metrics_confidence_level_is_recorded():
    frame = _metrics(_mixed_group(), max_turn=2, confidence=0.8)
    row = _only(frame, subset="NQ1")
    assert row["confidence"] == 0.8
    assert (row["mr@2_low"], row["mr@2_high"]) == pytest.approx(wilson_interval(2, 4, 0.8))


def test_group_metrics_default_max_turn_from_turns():
    frame = _metrics([make_record(implicit=["correct", "correct", "misinformed"])])
    assert "mr@3" in frame.columns
    assert "mr@4" not in frame.columns


def test_turn_table_rows_and_tokens():
    record = make_record(implicit=["correct", "misinformed"], final="misinformed")
    table = turn_table([record])
    assert list(table["probe"]) == ["initial", "implicit", "implicit", "final"]
    assert list(table["turn"]) == [0, 1, 2, 2]
    assert list(table["verdict"]) == ["correct", "correct", "misinformed", "misinformed"]
    assert list(table["chose_target"]) == [False, False, True, True]
    assert table["prompt_tokens"].tolist() == [20, 20, 20, 20]
    assert table.loc[1, "option"] == 1
    assert table.loc[2, "option"] == 2


def test_turn_table_sums_reasks():
    from tests.support.records import make_probe

    record = make_record(implicit=["correct"])
    record.turns[0].probe = make_probe("implicit", 1, "correct", attempts=3, tokens=(10, 2))
    table = turn_table([record])
    implicit = table[table["probe"] == "implicit"].iloc[0]
    assert implicit["attempts"] == 3
    assert implicit["prompt_tokens"] == 30
    assert implicit["completion_tokens"] == 6
    assert implicit["latency_s"] == pytest.approx(1.5)


def test_conversation_table_columns():
    table = conversation_table(_mixed_group())
    by_item = table.set_index("item_id")
    assert by_item.loc["a", "flip_turn"] == 2
    assert pd.isna(by_item.loc["c", "flip_turn"])
    assert not by_item.loc["d", "initially_correct"]
    assert by_item.loc["e", "error_kind"] == "server_error"
    assert by_item.loc["f", "status"] == "context_exceeded"
    assert by_item.loc["b", "flip_chose_target"] == False  # noqa: E712 (nullable boolean)


def _paired_records() -> list:
    records = []
    # Model A flips on items 1 and 2, model B only on item 1; item 4 is wrong for B at turn 0.
    for model, flips in (("A", {"1", "2"}), ("B", {"1"})):
        for item in ("1", "2", "3", "4"):
            initial = "misinformed" if (model, item) == ("B", "4") else "correct"
            implicit = ["misinformed"] if item in flips else ["correct"]
            records.append(
                make_record(model=model, item_id=item, initial=initial,
                            implicit=implicit if initial == "correct" else [])
            )
    return records


def test_paired_models_uses_shared_items():
    conversations = conversation_table(_paired_records())
    frame = paired_models(conversations, max_turn=1, level="subset")
    assert len(frame) == 1
    row = frame.iloc[0]
    assert (row["model_a"], row["model_b"]) == ("A", "B")
    assert row["items"] == 3
    assert row["flip_rate_a"] == pytest.approx(2 / 3)
    assert row["flip_rate_b"] == pytest.approx(1 / 3)
    assert row["difference"] == pytest.approx(1 / 3)
    assert row["difference_low"] <= row["difference"] <= row["difference_high"]


def test_paired_models_averages_epochs():
    records = [
        make_record(model="A", item_id="1", epoch=0, implicit=["misinformed"]),
        make_record(model="A", item_id="1", epoch=1, implicit=["correct"]),
        make_record(model="B", item_id="1", epoch=0, implicit=["correct"]),
    ]
    row = paired_models(conversation_table(records), level="subset").iloc[0]
    assert row["flip_rate_a"] == pytest.approx(0.5)
    assert row["difference"] == pytest.approx(0.5)


def test_paired_strategies_against_repetition():
    records = []
    for item in ("1", "2", "3", "4"):
        records.append(make_record(strategy="repetition", item_id=item,
                                   implicit=["misinformed"] if item == "1" else ["correct"]))
        records.append(make_record(strategy="logical", item_id=item,
                                   implicit=["misinformed"] if item in "123" else ["correct"]))
    frame = paired_strategies(conversation_table(records), max_turn=1, level="subset")
    assert len(frame) == 1
    row = frame.iloc[0]
    assert row["strategy"] == "logical"
    assert row["baseline"] == "repetition"
    assert row["difference"] == pytest.approx(0.5)


def test_paired_strategies_accepts_control_alias():
    records = [
        make_record(strategy="control", item_id="1", implicit=["correct"]),
        make_record(strategy="emotional", item_id="1", implicit=["misinformed"]),
    ]
    row = paired_strategies(conversation_table(records), level="subset").iloc[0]
    assert row["baseline"] == "control"
    assert row["difference"] == pytest.approx(1.0)


def test_paired_strategies_without_baseline_is_empty():
    records = [make_record(strategy="logical"), make_record(strategy="emotional")]
    assert paired_strategies(conversation_table(records)).empty
