"""The demo's stages are valid command lines of the scripts they name (a typo would only show after minutes)."""
import pytest

import train as train_command
from demo import stage_arguments
from options import parse_script_options

SCRIPT_OF_STAGE = {"hourglass": "hourglass_mpii", "lifter": "2d3d_h36m", "stitched": "stitched_h36m"}
STAGE_INPUTS = {"stitched": ["--load_hourglass", "h.pt", "--load_2d3d", "l.pt"]}


@pytest.mark.parametrize("quick", [False, True], ids=["demo", "quick"])
def test_stage_arguments_parse_and_do_fixed_work(quick):
    for stage, arguments in stage_arguments(quick).items():
        name = SCRIPT_OF_STAGE[stage]
        argv = [*arguments, *STAGE_INPUTS.get(stage, [])]
        opts = parse_script_options("train", name, train_command.SCRIPTS[name], argv)
        assert opts.epochs >= 1 and not opts.amp
        assert getattr(opts, "max_train_minutes", None) is None  # fixed work, not a time budget
