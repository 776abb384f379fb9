"""`load_npz`: VideoPose3D-style object members come back as plain data; a crafted pickle runs nothing."""
import io
import os
import pickle
import zipfile

import numpy as np
import pytest

from utils.errors import InputError
from utils.npz import load_npz


def test_numeric_string_and_object_members_round_trip(tmp_path):
    table = {"S1": {"Walking 1": np.arange(6, dtype=np.float32).reshape(2, 3)}}
    metadata = {"num_joints": 17, "keypoints_symmetry": [[1, 2], [4, 5]], "scale": np.float64(0.5)}
    path = tmp_path / "data.npz"
    np.savez(path, positions_3d=np.array(table, dtype=object), metadata=np.array(metadata, dtype=object),
             names=np.array(["a", "b"]), poses=np.ones((2, 16, 2)))
    loaded = load_npz(path)
    assert sorted(loaded) == ["metadata", "names", "poses", "positions_3d"]
    np.testing.assert_array_equal(loaded["positions_3d"].item()["S1"]["Walking 1"], table["S1"]["Walking 1"])
    assert loaded["metadata"].item() == metadata
    assert loaded["names"].tolist() == ["a", "b"] and loaded["poses"].shape == (2, 16, 2)


class _RunsACommand:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def crafted_member(marker) -> bytes:
    """A .npy object member whose pickle, if run, would create `marker`."""
    payload = io.BytesIO()
    np.lib.format.write_array_header_1_0(payload, {"descr": "|O", "fortran_order": False, "shape": ()})
    pickle.dump(_RunsACommand(marker), payload, protocol=3)
    return payload.getvalue()


@pytest.mark.parametrize("member", ["positions_3d", "positions_2d"])
def test_a_crafted_pickle_is_refused_and_runs_nothing(tmp_path, member):
    marker = tmp_path / "marker"
    path = tmp_path / "data_3d_h36m.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{member}.npy", crafted_member(marker))
    with pytest.raises(InputError, match=rf"data_3d_h36m.npz: '{member}': holds a pickled '(posix|os|nt)\.system'"):
        load_npz(path)
    assert not marker.exists()


def test_a_plain_pickle_named_npz_and_a_truncated_member_are_clear_errors(tmp_path):
    pickled = tmp_path / "poses.npz"
    pickled.write_bytes(pickle.dumps({"poses": [1, 2]}))
    with pytest.raises(InputError, match="poses.npz: not an .npz file"):
        load_npz(pickled)
    good = tmp_path / "good.npz"
    np.savez(good, table=np.array({"S1": np.zeros(3)}, dtype=object))
    raw = zipfile.ZipFile(good).read("table.npy")
    truncated = tmp_path / "truncated.npz"
    with zipfile.ZipFile(truncated, "w") as archive:
        archive.writestr("table.npy", raw[: len(raw) - 20])
    with pytest.raises(InputError, match="truncated.npz: 'table'"):
        load_npz(truncated)
    with pytest.raises(InputError, match="missing.npz: file not found"):
        load_npz(tmp_path / "missing.npz")


def test_the_human36m_readers_refuse_a_crafted_videopose3d_file(tmp_path):
    from twod_threed.h36m_files import read_videopose3d_3d
    from twod_threed.inputs import read_2d_input

    marker = tmp_path / "marker"
    for name, member in (("data_3d_h36m.npz", "positions_3d"), ("data_2d_h36m_gt.npz", "positions_2d")):
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(f"{member}.npy", crafted_member(marker))
        with pytest.raises(InputError, match="refusing to unpickle"):
            read_videopose3d_3d(path, (1,)) if member == "positions_3d" else read_2d_input(path)
    assert not marker.exists()
