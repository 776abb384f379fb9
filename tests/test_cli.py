"""One command-line vocabulary: every script's options have help, are shown only where they do something, print their
default once and never a path outside the repository; abbreviations are refused with a suggestion; the same thing
has the same name (aliases accepted); conflicting or ignored combinations are refused."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import eval as eval_command
import run as run_command
import train as train_command
import viz as viz_command
from options import build_parser, parse_script_options
from tests.fixtures_checkpoints import write_stage_checkpoints
from utils.errors import InputError
from utils.runs import refuse_changed_options

REPO_ROOT = Path(__file__).resolve().parents[1]
COMMANDS = {"train": train_command, "run": run_command, "eval": eval_command, "viz": viz_command}
EVERY_SCRIPT = [(command, name) for command, module in COMMANDS.items() for name in module.SCRIPTS]


def parser_of(command: str, name: str):
    return build_parser(command, name, COMMANDS[command].SCRIPTS[name])


def parse(command: str, name: str, argv: list[str]):
    return parse_script_options(command, name, COMMANDS[command].SCRIPTS[name], argv)


def usage_error(command: str, name: str, argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        parse(command, name, argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("command, name", EVERY_SCRIPT)
def test_every_option_has_help_and_its_default_once(command, name):
    parser = parser_of(command, name)
    silent = [action.option_strings[0] for action in parser._actions if action.option_strings and not action.help]
    assert not silent, f"{command}.py {name}: options without help: {silent}"
    text = re.sub(r"\s+", " ", parser.format_help())
    assert not re.search(r"\(default: [^()]*\) \(default:", text), "a default printed twice"
    assert "(default: None)" not in text
    assert "REFERENCE.md" not in text and "../shared" not in text and str(REPO_ROOT) not in text


@pytest.mark.parametrize("command, name, absent", [
    ("eval", "mpii_PCKh", ["--load", "--device", "--amp", "--workers", "--compile", "--batch_size", "--seed"]),
    ("eval", "h36m_MPJPE", ["--load", "--device", "--amp", "--workers", "--batch_size"]),
    ("viz", "2d_overlay", ["--load", "--device", "--data_dir", "--amp", "--workers"]),
    ("viz", "gan_samples", ["--data_dir", "--workers", "--amp", "--batch_size"]),
    ("run", "2d3d_h36m", ["--data_dir", "--amp", "--workers", "--compile", "--seed"]),
    ("run", "hourglass_mpii", ["--seed", "--exp"]),
    ("train", "hourglass_mpii", ["--output_dir"]),
    ("train", "3d_pose_gan", ["--output_dir", "--workers", "--compile"]),
])
def test_options_appear_only_where_they_do_something(command, name, absent, capsys):
    shown = {option for action in parser_of(command, name)._actions for option in action.option_strings}
    assert not shown & set(absent), f"{command}.py {name} shows {sorted(shown & set(absent))}"
    err = usage_error(command, name, [absent[0], "x"], capsys)
    assert f"unrecognized option '{absent[0]}'" in err


def test_abbreviations_are_refused_with_the_closest_option(capsys):
    err = usage_error("train", "2d3d_h36m", ["--epoch", "2"], capsys)
    assert "unrecognized option '--epoch' (did you mean '--epochs'?)" in err
    err = usage_error("run", "hourglass_mpii", ["--load", "x.pt", "--flip_tset"], capsys)
    assert "did you mean '--flip_test'?" in err


def test_image_dir_is_one_name_with_img_dir_as_its_alias():
    for command, name in [("run", "hourglass_mpii"), ("run", "stitched_mpii"), ("viz", "2d_overlay"),
                          ("viz", "saliency_and_prob_maps")]:
        extra = {"run": ["--load", "s.pt"], "viz": ["--load", "h.pt"]}[command]
        extra += ["--2d_pose_estimations", "p.npz"] if name == "2d_overlay" else []
        extra = [a for a in extra if not (name == "2d_overlay" and a in ("--load", "h.pt"))]
        for spelling in ("--image_dir", "--img_dir"):
            assert parse(command, name, [*extra, spelling, str(REPO_ROOT)]).image_dir == str(REPO_ROOT), name


@pytest.mark.parametrize("command, name, argv, words", [
    ("run", "hourglass_mpii", ["--load", "h.pt", "--image_dir", "d", "--split", "train"], "give one of them"),
    ("run", "hourglass_mpii", ["--load", "h.pt", "--image_dir", "d", "--data_dir", "e"], "--data_dir is not read"),
    ("run", "stitched_mpii", ["--split", "valid", "--img_dir", "d", "--load", "s.pt"], "give one of them"),
    ("run", "stitched_mpii", ["--load", "s.pt", "--load_hourglass", "h.pt"], "--load_hourglass would be ignored"),
    ("run", "stitched_mpii", ["--load", "s.pt", "--softargmax_beta", "20"], "--softargmax_beta would be ignored"),
    ("train", "stitched_h36m", ["--load", "s.pt", "--load_2d3d", "l.pt"], "--load_2d3d would be ignored"),
    ("eval", "mpii_PCKh", ["--prediction_files", "p.mat", "--gt", "g.mat", "--data_dir", "d"], "--data_dir is not"),
    ("eval", "h36m_MPJPE", ["--predictions", "p.npz", "--ground_truth", "g.npz", "--data_dir", "d",
                            "--output_dir", "o"], "--data_dir is not read"),
    ("viz", "saliency_and_prob_maps", ["--load", "h.pt", "--boxes", "b.json"], "--boxes needs --image_dir"),
])
def test_conflicting_or_ignored_combinations_are_refused(command, name, argv, words, capsys):
    assert words in usage_error(command, name, argv, capsys)


def test_resuming_with_another_network_shape_is_refused(tmp_path, capsys):
    hourglass, lifter = write_stage_checkpoints(tmp_path / "stages")  # stacks 1; linear_size 32
    common = ["--checkpoint_dir", str(tmp_path / "runs")]
    assert train_command.main(["hourglass_mpii", "--load", str(hourglass), "--stacks", "2", *common]) == 1
    err = capsys.readouterr().err
    assert "--stacks asks for stacks = 2" in err and "hourglass.pt (field model_config.stacks)" in err
    assert train_command.main(["2d3d_h36m", "--load", str(lifter), "--linear_size", "64", *common]) == 1
    assert "--linear_size asks for linear_size = 64" in capsys.readouterr().err


def test_options_left_at_their_defaults_never_conflict_with_the_checkpoint():
    saved = {"stacks": 1, "intermediate_supervision": True}
    refuse_changed_options(frozenset({"epochs"}), {"stacks": 2, "intermediate_supervision": True}, saved, "c.pt")
    with pytest.raises(InputError, match="--remove_intermediate_supervision asks for intermediate_supervision"):
        refuse_changed_options(frozenset({"remove_intermediate_supervision"}), {"intermediate_supervision": False},
                               saved, "c.pt", {"intermediate_supervision": "remove_intermediate_supervision"})
