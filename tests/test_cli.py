"""The jwstlazy command: argument parsing and exit codes."""

import pytest

from jwstlazy.cli import main, parse_step_options
from jwstlazy.errors import JwstLazyInputError


def test_step_options_both_spellings():
    parsed = parse_step_options(["--steps.jump.rejection_threshold=5", "--steps.ipc.skip", "true"])
    assert parsed == {"jump": {"rejection_threshold": "5"}, "ipc": {"skip": "true"}}


@pytest.mark.parametrize("bad", [["--steps.jump=5"], ["--jump.x=1"], ["--steps.jump.rejection_threshold"]])
def test_bad_step_options_are_named(bad):
    with pytest.raises(JwstLazyInputError) as info:
        parse_step_options(bad)
    assert "STEP.PARAM" in str(info.value)


def test_help_exits_zero(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    assert "simulate" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [[], ["frobnicate"], ["run"], ["run", "nosuchpipeline", "x.fits"], ["info"]],
)
def test_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_missing_input_file_exits_2_with_its_name(tmp_path, capsys):
    missing = tmp_path / "nothere_uncal.fits"
    assert main(["run", "detector1", str(missing), "--output-dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert str(missing) in err and "no such file" in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_granularity_reaches_the_run_and_a_bad_one_exits_2(tmp_path, monkeypatch, capsys):
    import jwstlazy.graphs.execute as execute

    seen = {}
    monkeypatch.setattr(execute, "run", lambda *args, **kwargs: seen.update(kwargs) or execute.ProgramResult())
    uncal = tmp_path / "x_uncal.fits"
    uncal.touch()
    assert main(["run", "detector1", str(uncal), "--granularity", "exposures", "--output-dir", str(tmp_path)]) == 0
    assert seen["granularity"] == "exposures"
    with pytest.raises(SystemExit) as info:
        main(["run", "detector1", str(uncal), "--granularity", "pixels"])
    assert info.value.code == 2 and "granularity" in capsys.readouterr().err
