"""Fitting the fused score (``grounding.scoring.fit_scorer``): on evidence made here with a known rule, the
fit recovers a calibrated score on phrases it never saw, keeps every weight >= 0, and leaves a term
its data never exercise at the prior."""
from __future__ import annotations

import numpy as np

from grounding_desktop.grounding.scoring import fit_scorer
from grounding_desktop.grounding.scoring.fit_scorer import Trial
from grounding_desktop.grounding.scoring.priors import PRIOR_WEIGHTS, TERMS

TRUE = {"detector": 1.2, "concept": 0.8, "objectness": 0.5, "location": 2.0}


def synthetic(n: int, seed: int, ambiguous: float = 0.3, context=None, kind: str = "") -> list[Trial]:
    """Phrases of 4-12 regions whose right region is drawn from the softmax of the true weights over
    their terms; a share of them has no right region among the candidates (the oracle misses).
    ``context``: the phrases' ``priors.CONTEXT`` values."""
    rng = np.random.default_rng(seed)
    w = np.array([TRUE.get(t, 0.0) for t in TERMS])
    out = []
    for i in range(n):
        k = int(rng.integers(4, 13))
        terms = np.zeros((k, len(TERMS)))
        for t in ("detector", "concept", "objectness"):
            terms[:, TERMS.index(t)] = rng.exponential(1.0, k)
        terms[:, TERMS.index("location")] = -rng.random(k)
        u = terms @ w
        p = np.exp(u - u.max())
        hit = np.zeros(k, bool)
        if rng.random() > ambiguous:
            hit[rng.choice(k, p=p / p.sum())] = True
        out.append(Trial(terms, hit, f"{kind}image{i // 2}", kind,
                         None if context is None else np.asarray(context, np.float64)))
    return out


def test_a_fitted_score_is_calibrated_on_phrases_the_fit_never_saw():
    fitted = fit_scorer.fit(synthetic(400, seed=1))
    unseen = synthetic(400, seed=2)
    figures = fit_scorer.judge(unseen, fitted)
    assert figures.ece <= 0.08
    assert figures.wrong_score <= 0.3
    assert all(v >= 0 for v in fitted.terms.values())
    # Ranking as well as the rule that made the data: the prior ranks worse.
    assert figures.accuracy >= fit_scorer.judge(unseen, PRIOR_WEIGHTS).accuracy
    assert figures.log_loss < fit_scorer.judge(unseen, PRIOR_WEIGHTS).log_loss


def mixed(n: int, seed: int) -> list[Trial]:
    """Phrases whose noun the detector knows, and as many whose noun nothing knows: the same
    evidence, but the thing is far more often missing from the candidates."""
    return synthetic(n, seed, 0.1, (1.0, 0.0, 0.0, 1.0), "known") + \
        synthetic(n, seed + 100, 0.7, (0.0, 0.0, 0.0, 1.0), "open")


def test_a_fitted_score_is_calibrated_on_each_kind_of_phrase_it_never_saw():
    """The same utility means less where nothing knows the noun: the calibration reads what the
    answer rests on (``priors.CONTEXT``), so the score is calibrated on either kind alone."""
    fitted = fit_scorer.fit(mixed(300, seed=1))
    unseen = mixed(300, seed=2)
    for kind in ("known", "open"):
        assert fit_scorer.judge([t for t in unseen if t.kind == kind], fitted).ece <= 0.08, kind
    assert fitted.context["coco"] > 0


def test_a_learned_concept_never_lowers_the_calibrated_score_even_where_its_phrases_miss_more():
    """Data where the phrases a concept spoke for miss more often would pull "a concept spoke"
    below 0; it stays at 0, so teaching a box cannot lower what the other sources say."""
    spoke = (0.0, 0.0, 1.0, 1.0)
    trials = synthetic(300, seed=1, ambiguous=0.1, context=(0.0, 0.0, 0.0, 1.0), kind="untaught") + \
        synthetic(300, seed=2, ambiguous=0.8, context=spoke, kind="taught")
    fitted = fit_scorer.fit(trials)
    assert fitted.context["concept"] == 0.0
    free = fit_scorer.fit_calibration(np.array([[1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0]] * 50 + [[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]] * 50),
                                      np.r_[np.zeros(50, bool), np.ones(50, bool)], np.zeros(8))
    assert free[3 + 2] == 0.0


def test_a_term_the_data_never_exercise_keeps_its_prior():
    fitted = fit_scorer.fit(synthetic(200, seed=3))
    assert fitted.terms["ordinal"] == PRIOR_WEIGHTS.terms["ordinal"]
    assert fitted.terms["detector"] != PRIOR_WEIGHTS.terms["detector"]


def test_a_project_refit_is_used_only_when_it_beats_the_shipped_fit_on_the_project():
    shipped = fit_scorer.fit(synthetic(300, seed=4), elsewhere=synthetic(50, seed=8, ambiguous=1.0))
    # A project whose boxes follow the same rule: nothing to gain (or too few boxes).
    assert fit_scorer.refit(synthetic(40, seed=5), shipped, boxes=29) is None
    # A user whose taste leans on the place words far more than the shipped data did.
    global TRUE
    kept = TRUE
    TRUE = {"detector": 0.3, "objectness": 0.1, "location": 8.0}
    try:
        project = synthetic(80, seed=6, ambiguous=0.0)
        unseen = synthetic(200, seed=7, ambiguous=0.0)
    finally:
        TRUE = kept
    refitted = fit_scorer.refit(project, shipped, boxes=80)
    assert refitted is not None and refitted.fitted_on.startswith("this project's 80 boxes")
    assert refitted.terms["location"] > shipped.terms["location"]
    assert fit_scorer.judge(unseen, refitted).accuracy > fit_scorer.judge(unseen, shipped).accuracy
    # A project has no taught phrase on a picture without its thing: the shipped folder's map serves.
    assert shipped.folder and refitted.folder == shipped.folder


def test_the_l2_pull_is_the_strongest_whose_held_out_ranking_loss_is_within_a_standard_error_of_the_least():
    grid = (0.01, 0.1, 1.0, 10.0, 100.0)
    l2, tried = fit_scorer.choose_l2(synthetic(120, seed=8), grid, prior=np.zeros(len(TERMS)))
    best = min(tried, key=lambda k: tried[k][0])
    assert tried[l2][0] <= tried[best][0] + tried[best][1]
    assert all(tried[k][0] > tried[best][0] + tried[best][1] for k in grid if k > l2)
    assert l2 < 100.0  # a pull that flattens every weight to the prior (0 here) ranks badly


def test_the_shipped_fit_weighs_every_term_and_context_the_scorer_has():
    """A term or context added to ``priors`` without refitting ``resources/scorer_fit.json`` would
    weigh 0 there (``FusedWeights.from_dict`` reads a missing one as 0): run
    ``benchmarks/fit_scorer.py ... --write`` and update ``models/fused_scorer.md``."""
    import json

    from grounding_desktop.grounding.scoring.priors import CONTEXT, FIT_FILE

    shipped = json.loads(FIT_FILE.read_text(encoding="utf-8"))["weights"]
    assert set(shipped["terms"]) == set(TERMS)
    assert set(shipped["context"]) == set(CONTEXT)


def test_a_fit_judges_the_boxes_proposing_shows_one_per_object():
    """What a user is shown: the best region, then the next ones that are not near-copies of a
    shown one and that some source names (``scorer.one_per_object``), as proposing chooses."""
    boxes = np.array([[0, 0, 100, 100], [2, 2, 100, 100], [200, 0, 300, 100], [0, 200, 100, 300],
                      [400, 0, 500, 100]], np.float64)
    u = np.array([5.0, 4.0, 3.0, 2.0, 1.0])
    proposable = np.array([True, True, False, True, True])
    trial = Trial(np.zeros((5, len(TERMS))), np.array([True, True, False, False, False]), "image",
                  boxes=boxes, proposable=proposable)
    assert fit_scorer.shown(trial, u).tolist() == [0, 3, 4]
    # Without boxes, every region is an object of its own.
    assert fit_scorer.shown(Trial(trial.terms, trial.hit, "image"), u).tolist() == [0, 1, 2, 3, 4]


def test_a_fit_s_fingerprint_changes_with_any_of_its_numbers_and_only_with_them():
    from dataclasses import replace

    from grounding_desktop.grounding.scoring.priors import FusedWeights, shipped_weights

    shipped = shipped_weights()
    assert FusedWeights.from_dict(shipped.to_dict()).fingerprint == shipped.fingerprint
    assert replace(shipped, fitted_on="described otherwise").fingerprint == shipped.fingerprint
    assert replace(shipped, bias=shipped.bias + 0.01).fingerprint != shipped.fingerprint
    terms = dict(shipped.terms, detector=shipped.terms["detector"] + 0.01)
    assert replace(shipped, terms=terms).fingerprint != shipped.fingerprint


def test_a_folder_s_calibration_learns_what_a_taught_phrase_is_worth_on_pictures_without_its_thing():
    """Asked of every picture of a folder, a taught phrase meets pictures without its thing, where
    its concept still speaks a little: the calibration for a folder is fitted on those too and
    scores them low, calibrated over the folder's mix; the calibration for a picture the user chose
    is the one fitted without them."""
    spoke = (0.0, 0.0, 1.0, 1.0)

    def folder_mix(seed: int) -> tuple[list[Trial], list[Trial]]:
        present = synthetic(300, seed, ambiguous=0.2, context=spoke, kind="taught")
        absent = synthetic(300, seed + 50, ambiguous=1.0, context=spoke, kind="taught absent")
        return present, absent

    present, absent = folder_mix(1)
    fitted = fit_scorer.fit(present, elsewhere=absent)
    alone = fit_scorer.fit(present)
    # No right region, so no weight moves, and the chosen picture's calibration is the one without them.
    assert {k: v for k, v in fitted.to_dict().items() if k not in ("folder", "fitted_on")} == \
        {k: v for k, v in alone.to_dict().items() if k != "fitted_on"}
    assert fitted.folder and not alone.folder and alone.asked_of_folder is alone

    unseen_present, unseen_absent = folder_mix(2)
    folder, chosen = fitted.asked_of_folder, fitted
    assert fit_scorer.judge(unseen_present + unseen_absent, folder).ece <= 0.08
    assert fit_scorer.judge(unseen_present + unseen_absent, folder).ece < \
        fit_scorer.judge(unseen_present + unseen_absent, chosen).ece
    assert fit_scorer.judge(unseen_absent, folder).wrong_score < fit_scorer.judge(unseen_absent, chosen).wrong_score


def test_a_fit_file_keeps_the_folder_s_calibration_and_its_fingerprint_counts_it():
    from dataclasses import replace

    from grounding_desktop.grounding.scoring.priors import FusedWeights, shipped_weights

    shipped = shipped_weights()
    assert shipped.folder, "the shipped fit has a calibration for a folder"
    again = FusedWeights.from_dict(shipped.to_dict())
    assert again.folder == shipped.folder and again.fingerprint == shipped.fingerprint
    moved = dict(shipped.folder, bias=shipped.folder["bias"] + 0.01)
    assert replace(shipped, folder=moved).fingerprint != shipped.fingerprint
    assert shipped.asked_of_folder.bias == shipped.folder["bias"]
    assert shipped.asked_of_folder.terms == shipped.terms
