"""ssldyn validate's trajectory prediction (sims.trajectory) on tiny CPU runs: the fields it
writes, the rebuilt initial weights, the Python entry point and bad input."""
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sims.cli import main  # noqa: E402

TINY = ["linear", "--d", "16", "--h", "16", "--epochs", "3", "--steps-per-epoch", "20", "--batch", "128",
        "--rho", "0.05", "--eval-size", "64", "--early-every", "5", "--no-figures"]


def _run(tmp_path, *extra):
    out = tmp_path / "run"
    assert main(["validate", *TINY, *extra, "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    records = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    return summary, records


def test_validate_predicts_by_default(tmp_path):
    summary, records = _run(tmp_path)
    tr = summary["trajectory"]
    for key in ("median_rel_err_top8", "max_rel_err_top8", "rel_err_n_phi_final", "rel_err_n_psi_final",
                "lift_t_measured", "lift_t_predicted", "legacy_eq5", "validity", "median_rel_err_sd",
                "sd_ratio_min", "sd_ratio_max", "median_rel_err_top8_mean_field"):
        assert key in tr
    assert tr["spread_model"] == "linear"
    assert tr["status"] == 0 and tr["checkpoints_predicted"] == tr["checkpoints"] == len(records)
    assert 0 <= tr["median_rel_err_top8"] <= tr["max_rel_err_top8"]
    # the prediction's error is bounded: issue #22's targets (median top-8 <= 0.02, max <= 0.08);
    # the norms at the end within 2% (N_Phi) and 15% (N_Psi: measured 0.092 on this 60-step
    # recipe, 0.05-0.07 on the reference runs); the predicted outcome is the measured one
    assert tr["median_rel_err_top8"] <= 0.02 and tr["max_rel_err_top8"] <= 0.08
    assert tr["rel_err_n_phi_final"] <= 0.02 and tr["rel_err_n_psi_final"] <= 0.15
    assert summary["predicted_outcome"]["outcome"] == summary["measured_outcome"]
    assert {"median_rel_err_top8", "checkpoints_predicted", "status"} <= set(tr["legacy_eq5"])
    r0 = records[0]
    assert r0["prediction"]["rel_err_top8"] == pytest.approx(0.0, abs=1e-6)   # same W0, Phi0
    for r in records:
        b = r["prediction"]
        assert len(b["p_top"]) == 8 and len(r["p_top"]) == 8
        mine = np.median(np.abs(np.array(b["p_top"]) - r["p_top"]) / np.abs(r["p_top"]))
        assert b["rel_err_top8"] == pytest.approx(mine, rel=1e-9)
        assert b["n_phi"] > 0 and b["n_psi"] > 0 and "legacy_eq5" in r
        # the band, predicted and measured as training measures it (modes above 0.2 max p)
        srt = np.sort(r["p"])[::-1]
        band = srt[srt > 0.2 * srt[0]]
        assert b["band_r_measured"] == band.size and b["band_sd_measured"] == pytest.approx(band.std(), rel=1e-9)
        assert b["band_sd"] >= 0 and b["band_mean"] > 0
    assert [r["t"] for r in records] == sorted(r["t"] for r in records)


def test_no_predict_and_resnet_refused(tmp_path, capsys):
    summary, records = _run(tmp_path, "--no-predict")
    assert "trajectory" not in summary and "prediction" not in records[-1]
    capsys.readouterr()
    code = main(["validate", "resnet18", "--predict", "--epochs", "1", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "predict" in err[0] and "linear" in err[0]


@pytest.mark.parametrize("argv, name", [(["--lr", "-0.1"], "lr"), (["--momentum", "1.0"], "momentum"),
                                        (["--momentum", "-0.5"], "momentum")])
def test_bad_recipe_exit_2(argv, name, tmp_path, capsys):
    code = main(["validate", *TINY, *argv, "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and name in err[0]


def test_predict_run_entry_point_and_initial_weights(tmp_path):
    from sims.train import TrainConfig
    from sims.trajectory import initial_weights, predict_run, recipe_of

    summary, records = _run(tmp_path, "--no-predict")
    cfg = TrainConfig(mode="linear", d=16, h=16, epochs=3, steps_per_epoch=20, batch=128, rho=0.05, seed=0)
    W0, Phi0 = initial_weights(cfg)
    p0 = np.sort(np.linalg.eigvalsh(0.5 * (W0 + W0.T)))[::-1][:8]
    assert np.allclose(p0, records[0]["p_top"], rtol=1e-6)
    out = predict_run(recipe_of(cfg, 20), records, W0, Phi0)
    assert len(out["prediction"]) == len(records)
    assert out["trajectory"]["median_rel_err_top8"] is not None
    with pytest.raises(Exception, match="W0"):
        predict_run(recipe_of(cfg, 20), records)


def test_repredict_bad_folder_is_one_line(tmp_path, capsys):
    from sims.trajectory import main as repredict_main

    assert repredict_main([str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ssldyn: error: run_dir")
    assert repredict_main([]) == 2


def test_repredict_gzipped_run_and_spread_models(tmp_path):
    """A committed-style run (metrics.jsonl.gz) is re-predicted in place with each spread model;
    'none' reproduces the mean map's top-8 error, the linear and Langevin ones record their model."""
    import gzip

    from sims.trajectory import repredict

    summary, records = _run(tmp_path, "--no-predict")
    run = tmp_path / "run"
    data = (run / "metrics.jsonl").read_bytes()
    (run / "metrics.jsonl").unlink()
    (run / "metrics.jsonl.gz").write_bytes(gzip.compress(data, mtime=0))
    got = {}
    for model in ("none", "linear", "langevin"):
        tr = repredict(run, figures=False, spread_model=model)
        got[model] = tr
        assert tr["spread_model"] == model and tr["checkpoints_predicted"] == len(records)
    assert got["none"]["median_rel_err_top8"] == pytest.approx(got["none"]["median_rel_err_top8_mean_field"])
    recs = [json.loads(x) for x in gzip.decompress((run / "metrics.jsonl.gz").read_bytes()).decode().splitlines()]
    assert recs[-1]["prediction"]["spread_model"] == "langevin"
