"""The facts of one run, from its journal: PURE (a dict in, a dict out; no I/O).

:func:`build_view` reads what the stages recorded — the train stage's leaderboard, the
registered model's tags, the package's contract test, the deploy stage's steps (or, for an
aborted rollout, the report its RolloutAborted carried) — and arranges it for the renderers.
Step dicts may carry more keys than the engine writes today (per-round statistics); those
are kept as ``extras`` and shown as they are, never required. :func:`stage_summary` is the one
line per stage that ``azml2aks runs`` prints too.
"""

from __future__ import annotations

from typing import Any

from azml2aks import metrics as M

STAGE_ORDER = ("train", "register", "package", "attach", "deploy")
#: Keys of an engine step dict that the timeline shows in their own columns.
STEP_KEYS = frozenset({"phase", "percent", "attempt", "traffic", "at_seconds", "verdict", "gates", "note", "colours"})
#: Gates that pass when the value is at least the threshold (the rest: at most).
AT_LEAST = frozenset({"samples", "agreement"})
LINEAGE_PREFIX = "azml2aks."


def split_text(traffic: dict[str, Any] | None) -> str:
    """``{"blue": 90, "green": 10}`` → ``blue=90 green=10`` (``(empty)`` for none)."""
    return " ".join(f"{c}={p}" for c, p in (traffic or {}).items()) or "(empty)"


def number(value: Any, digits: int = 4) -> str:
    """A figure as a reviewer reads it: ``-`` for missing, floats to ``digits`` significant digits."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


# --- one line per stage ------------------------------------------------------------------
def stage_summary(name: str, entry: dict[str, Any] | None) -> str:
    """What a stage did, in one line (its error's first line when it failed)."""
    if not entry:
        return "not run"
    state = entry.get("state", "done")
    if state == "failed":
        error = entry.get("error") or {}
        return f"{error.get('error', 'error')}: {(error.get('message') or '').splitlines()[0] if error.get('message') else ''}"
    if state == "running":
        return "started, not finished (still running, or the process was stopped)"
    r = entry.get("result") or {}
    if name == "train":
        best = (f", best {r.get('primary_metric')}={number(r.get('best_metric_value'))} ({r.get('best_algorithm')})"
                if r.get("best_metric_value") is not None else "")
        return f"job {r.get('job_name')} {r.get('status')}: {r.get('trials', 0)} trials{best}"
    if name == "register":
        aliases = f" [{', '.join(r['aliases'])}]" if r.get("aliases") else ""
        return f"{r.get('name')}:{r.get('version')}{aliases} {r.get('metric_name')}={number(r.get('metric_value'))}"
    if name == "package":
        contract = r.get("contract") or {}
        proof = (f"contract test passed on {contract.get('rows')} rows" if contract.get("passed")
                 else "contract test not run")
        reused = "reused" if r.get("environment_reused") else "new"
        return f"{r.get('model')}: environment {r.get('environment_name')}:{r.get('environment_version')} ({reused}), {proof}"
    if name == "attach":
        return f"compute {r.get('compute')} ({r.get('status')})"
    if name == "deploy":
        return f"{r.get('result')}: {r.get('colour')} on {r.get('endpoint')}, traffic {split_text(r.get('traffic'))}"
    return ", ".join(f"{k}={v}" for k, v in r.items() if isinstance(v, (str, int, float)))


# --- the sections ------------------------------------------------------------------------
def _train(entry: dict | None, model: dict[str, Any] | None, leaderboards: dict[str, list]) -> dict[str, Any] | None:
    """The job and its trials: from this run's train stage, or — when the job was trained in
    another run (CI splits train and register across agents) — from the registered model."""
    if entry and entry.get("state", "done") == "done":
        r, here = entry["result"], True
    elif model and model.get("job_name"):
        r, here = {"job_name": model["job_name"], "status": "Completed", "primary_metric": model["metric_name"]}, False
    else:
        return None
    metric = r.get("primary_metric") or ""
    higher = M.higher_is_better(metric) if metric else True
    chosen = model["run_id"] if model and model.get("job_name") == r.get("job_name") else r.get("best_child_run_id")
    recorded = leaderboards.get(r.get("job_name") or "")
    trials = []
    for n, t in enumerate(recorded or [], start=1):
        trials.append({"trial": n, "run_id": t.get("run_id"), "algorithm": t.get("algorithm"),
                       "metric_value": t.get("metric_value"), "duration_seconds": t.get("duration_seconds"),
                       "status": t.get("status"), "chosen": t.get("run_id") == chosen})
    scored = [t for t in trials if t["metric_value"] is not None]
    ranked = sorted(scored, key=lambda t: t["metric_value"], reverse=higher) + \
        [t for t in trials if t["metric_value"] is None]
    for rank, t in enumerate(ranked, start=1):
        t["rank"] = rank
    note = None if recorded is not None else "listed when the job's best trial is registered (azml2aks register)"
    return {"job_name": r.get("job_name"), "status": r.get("status"), "task": r.get("task"),
            "primary_metric": metric, "higher_is_better": higher, "experiment": r.get("experiment_name"),
            "best_child_run_id": r.get("best_child_run_id"), "chosen_run_id": chosen, "trained_here": here,
            "duration_seconds": r.get("duration_seconds"), "trials": ranked, "note": note}


def _model(entry: dict | None) -> dict[str, Any] | None:
    if not entry or entry.get("state", "done") != "done":
        return None
    r = entry["result"]
    tags = r.get("tags") or {}
    lineage = {k[len(LINEAGE_PREFIX):]: v for k, v in tags.items() if k.startswith(LINEAGE_PREFIX)}
    other = {k: v for k, v in tags.items() if not k.startswith(LINEAGE_PREFIX)}
    return {"ref": f"{r.get('name')}:{r.get('version')}", "name": r.get("name"), "version": r.get("version"),
            "metric_name": r.get("metric_name"), "metric_value": r.get("metric_value"),
            "run_id": r.get("run_id"), "job_name": r.get("job_name"), "source": r.get("source"),
            "aliases": list(r.get("aliases") or []), "lineage": lineage, "tags": other}


def _package(entry: dict | None) -> dict[str, Any] | None:
    if not entry or entry.get("state", "done") != "done":
        return None
    r = entry["result"]
    return {"model": r.get("model"), "directory": r.get("directory"), "files": list(r.get("files") or []),
            "environment": f"{r.get('environment_name')}:{r.get('environment_version')}",
            "environment_reused": bool(r.get("environment_reused")), "fingerprint": r.get("fingerprint"),
            "contract": dict(r.get("contract") or {}), "conflicts": list(r.get("conflicts") or [])}


def _gate(g: dict[str, Any], metric: str | None) -> dict[str, Any]:
    name = g.get("gate")
    if name in AT_LEAST or (metric and name == metric and M.higher_is_better(metric)):
        op = ">="
    else:
        op = "<="
    return {"gate": name, "value": g.get("value"), "threshold": g.get("threshold"), "status": g.get("status"), "op": op}


def _steps(steps: list[dict[str, Any]], metric: str | None) -> list[dict[str, Any]]:
    out = []
    for i, s in enumerate(steps):
        following = steps[i + 1] if i + 1 < len(steps) else None
        remeasured = (following is not None and following.get("phase") == s.get("phase")
                      and following.get("percent") == s.get("percent")
                      and (following.get("attempt") or 1) > (s.get("attempt") or 1))
        verdict = s.get("verdict")
        label = s.get("phase") or "?"
        if s.get("percent") is not None:
            label += f" {s['percent']} %"
        if (s.get("attempt") or 1) > 1:
            label += f" (attempt {s['attempt']})"
        gates = [_gate(g, metric) for g in s.get("gates") or []]
        by_name = {g["gate"]: g for g in gates}
        out.append({
            "label": label, "phase": s.get("phase"), "percent": s.get("percent"), "attempt": s.get("attempt") or 1,
            "at_seconds": s.get("at_seconds"), "traffic": dict(s.get("traffic") or {}),
            "verdict": verdict, "shown_verdict": "re-measured" if remeasured and verdict != "pass" else verdict,
            "gates": gates, "colours": dict(s.get("colours") or {}),
            "agreement": (by_name.get("agreement") or {}).get("value"),
            "metric": (by_name.get(metric) or {}).get("value") if metric else None,
            "note": s.get("note"), "extras": {k: v for k, v in s.items() if k not in STEP_KEYS},
        })
    return out


def _rollout(entry: dict | None, metric: str | None) -> dict[str, Any] | None:
    if not entry:
        return None
    state = entry.get("state", "done")
    if state == "done":
        r = dict(entry["result"])
        error = None
    elif state == "failed":
        error = entry.get("error") or {}
        r = dict(error.get("report") or {})
    else:
        return {"state": state, "steps": [], "result": "running"}
    return {"state": state, "endpoint": r.get("endpoint"), "scoring_uri": r.get("scoring_uri"),
            "result": r.get("result") or ("failed" if error else None), "colour": r.get("colour"),
            "previous": r.get("previous"), "traffic": dict(r.get("traffic") or {}),
            "last_good": r.get("last_good"), "model": r.get("model"), "reason": r.get("reason"),
            "log_tail": r.get("log_tail"), "error": error, "steps": _steps(list(r.get("steps") or []), metric)}


def _and(items: list[str]) -> str:
    return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else "".join(items)


def _verdict(stages: dict[str, dict], rollout: dict[str, Any] | None) -> dict[str, Any]:
    """The outcome in one word and its reason in one sentence; ``ok`` False for failures."""
    if rollout is not None and rollout["state"] != "running":
        result, colour, previous = rollout["result"], rollout["colour"], rollout["previous"]
        split = split_text(rollout["traffic"])
        if result == "promoted":
            passed = {s["phase"] for s in rollout["steps"] if s["verdict"] == "pass"}
            ladder = [s["percent"] for s in rollout["steps"] if s["phase"] == "step" and s["verdict"] == "pass"]
            checks = [text for phase, text in (("smoke", "the smoke test"), ("shadow", "the shadow comparison"),
                                               ("step", f"every gate of the ladder {ladder}")) if phase in passed]
            idle = f"; {previous} stays deployed at 0 % for an instant rollback" if previous in rollout["traffic"] else ""
            return {"result": "promoted", "ok": True,
                    "reason": f"{colour} passed {_and(checks) or 'its rollout'} and now serves all traffic "
                              f"({split}){idle}"}
        if result == "created":
            return {"result": "created", "ok": True,
                    "reason": f"first deployment of the endpoint: {colour} passed its smoke test and serves all "
                              f"traffic ({split})"}
        if result == "rolled_back":
            live = next((c for c, p in rollout["traffic"].items() if p == 100), None)
            kept = f"; {live} kept 100 % of the traffic" if live else f"; traffic restored to {split}"
            return {"result": "rolled back", "ok": False, "reason": f"{rollout['reason'] or 'a step failed'}{kept}"}
        error = rollout.get("error") or {}
        return {"result": "deploy failed", "ok": False, "reason": error.get("message") or "see the deploy stage"}
    for name in STAGE_ORDER:
        entry = stages.get(name) or {}
        if entry.get("state") == "failed":
            return {"result": f"{name} failed", "ok": False, "reason": stage_summary(name, entry)}
        if entry.get("state") == "running":
            return {"result": f"{name} unfinished", "ok": None, "reason": stage_summary(name, entry)}
    done = [s for s in STAGE_ORDER if s in stages]
    return {"result": "not deployed", "ok": None,
            "reason": f"this run did {', '.join(done) or 'nothing yet'}; the deploy stage has not run in it"}


def build_view(journal: dict[str, Any]) -> dict[str, Any]:
    """The report's facts from a journal's data (``Journal.data``)."""
    stages: dict[str, dict] = journal.get("stages") or {}
    model = _model(stages.get("register"))
    train = _train(stages.get("train"), model, (journal.get("facts") or {}).get("leaderboard") or {})
    metric = train["primary_metric"] if train else (model or {}).get("metric_name")
    rollout = _rollout(stages.get("deploy"), metric)
    package = _package(stages.get("package"))
    if rollout is not None and not rollout.get("model") and package:
        rollout["model"] = package["model"]  # an aborted rollout's report does not name it
    names = [s for s in STAGE_ORDER if s in stages] + [s for s in stages if s not in STAGE_ORDER]
    return {
        "run_id": journal.get("run_id"), "pipeline": journal.get("pipeline"), "backend": journal.get("backend"),
        "started": journal.get("started"),
        "stages": [{"stage": s, "state": stages[s].get("state", "done"), "started": stages[s].get("started"),
                    "finished": stages[s].get("finished"), "summary": stage_summary(s, stages[s])} for s in names],
        "train": train, "model": model, "package": package, "rollout": rollout,
        "primary_metric": metric, "verdict": _verdict(stages, rollout),
    }
