import pytest

import eval as eval_command
import run as run_command
import train as train_command
import viz as viz_command
from options import Script, dispatch


def fake_scripts(calls):
    def add(parser):
        parser.add_argument("--width", type=int, default=3)

    return {
        "hourglass_mpii": Script(help="train the hourglass", run=lambda o: calls.append(o), add_options=add,
                                 training=True, check=lambda o: "--width must be odd" if o.width % 2 == 0 else None),
        "2d3d_h36m": Script(help="train the lifter", run=lambda o: calls.append(o)),
    }


def test_listing_names_each_script_with_its_line(capsys):
    assert dispatch("train", fake_scripts([]), ["--help"]) == 0
    out = capsys.readouterr().out
    assert "hourglass_mpii  train the hourglass" in out and "2d3d_h36m" in out


def test_unknown_name_suggests_the_closest(capsys):
    assert dispatch("train", fake_scripts([]), ["hourglass_mpi"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'hourglass_mpii'" in err and "2d3d_h36m" in err


def test_script_help_shows_its_options_only(capsys):
    with pytest.raises(SystemExit) as exit_info:
        dispatch("train", fake_scripts([]), ["2d3d_h36m", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--data_dir" in out and "--width" not in out and "--lr" not in out  # not a training script


def test_shared_options_are_parsed_with_their_exact_names():
    calls = []
    argv = ["hourglass_mpii", "--workers", "2", "--use_amsprop", "--lr", "0.01", "--exp", "e1", "--tb_dir", "tb",
            "--seed", "5", "--load", "x.pt", "--checkpoint_dir", "ck", "--data_dir", "d", "--output_dir", "o",
            "--epochs", "4", "--batch_size", "8", "--device", "cpu", "--amp", "--grad_clip", "1.5", "--width", "5"]
    assert dispatch("train", fake_scripts(calls), argv) == 0
    opts = calls[0]
    assert (opts.workers, opts.use_amsprop, opts.lr, opts.exp, opts.tb_dir, opts.seed) == (2, True, 0.01, "e1", "tb", 5)
    assert (opts.load, opts.checkpoint_dir, opts.data_dir, opts.output_dir) == ("x.pt", "ck", "d", "o")
    assert (opts.epochs, opts.batch_size, opts.device, opts.amp, opts.grad_clip, opts.width) == (4, 8, "cpu", True, 1.5, 5)
    assert opts.script == "hourglass_mpii"


def test_conflicting_or_invalid_options_are_rejected(capsys):
    with pytest.raises(SystemExit):
        dispatch("train", fake_scripts([]), ["hourglass_mpii", "--width", "4"])
    assert "--width must be odd" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        dispatch("train", fake_scripts([]), ["hourglass_mpii", "--batch_size", "0"])
    assert "--batch_size must be positive" in capsys.readouterr().err


@pytest.mark.parametrize("module", [train_command, run_command, viz_command, eval_command])
def test_entry_points_list_their_scripts(module, capsys):
    assert module.main(["--help"]) == 0
    assert "script names:" in capsys.readouterr().out
    for name, script in module.SCRIPTS.items():
        assert script.help and callable(script.run), name
