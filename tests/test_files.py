"""files.py: atomic writes and the checkpoint-folder lock."""
import os
import signal
import subprocess
import sys

import pytest

from conftest import ROOT
from rl_v2v_gan.errors import UserError
from rl_v2v_gan.files import LOCK_FILE, atomic_path, atomic_write, locked


def test_atomic_write_replaces_whole_files_and_leaves_no_temporary(tmp_path):
    path = str(tmp_path / "sub" / "a.txt")
    atomic_write(path, "first")
    atomic_write(path, "second")
    with open(path) as f:
        assert f.read() == "second"
    atomic_write(str(tmp_path / "b.bin"), b"\x00\x01", "wb")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert sorted(os.listdir(str(tmp_path))) == ["b.bin", "sub"]
    assert os.listdir(str(tmp_path / "sub")) == ["a.txt"]


def test_atomic_write_failure_keeps_the_old_file_and_names_it(tmp_path):
    path = str(tmp_path / "a.txt")
    atomic_write(path, "old")
    with pytest.raises(TypeError):
        atomic_write(path, b"bytes in text mode")
    with open(path) as f:
        assert f.read() == "old"
    assert os.listdir(str(tmp_path)) == ["a.txt"]
    with pytest.raises(UserError, match="a.txt/b.txt"):
        atomic_write(os.path.join(path, "b.txt"), "x")   # a file is not a folder


def test_atomic_path_keeps_old_file_on_failure(tmp_path):
    path = tmp_path / "out.gif"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_path(str(path)) as tmp:
            assert tmp.endswith(".gif") and os.path.dirname(tmp) == str(tmp_path)
            open(tmp, "wb").write(b"half")
            raise RuntimeError("interrupted")
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["out.gif"]
    with atomic_path(str(path)) as tmp:
        open(tmp, "wb").write(b"new")
    assert path.read_bytes() == b"new" and os.listdir(tmp_path) == ["out.gif"]


@pytest.mark.parametrize("failure", [RuntimeError, KeyboardInterrupt])
def test_atomic_path_folder_replaces_the_old_folder_whole_or_not_at_all(tmp_path, failure):
    out = tmp_path / "bundle"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with pytest.raises(failure):
        with atomic_path(str(out), folder=True) as tmp:
            assert os.path.isdir(tmp) and not os.listdir(tmp)
            open(os.path.join(tmp, "new.txt"), "w").write("half")
            raise failure("interrupted")
    assert os.listdir(str(out)) == ["old.txt"] and os.listdir(str(tmp_path)) == ["bundle"]
    with atomic_path(str(out), folder=True) as tmp:
        open(os.path.join(tmp, "new.txt"), "w").write("new")
    assert os.listdir(str(out)) == ["new.txt"] and os.listdir(str(tmp_path)) == ["bundle"]


def test_lock_refuses_a_second_holder_and_names_it(tmp_path):
    folder = str(tmp_path / "run")
    with locked(folder):
        with pytest.raises(UserError, match=r"--checkpoint_dir .*run is in use by another "
                                            r"process \(pid %d\)" % os.getpid()):
            with locked(folder):
                pass
    with locked(folder):    # released at the end of the block
        pass


def test_lock_of_a_killed_process_is_not_stale(tmp_path):
    folder = str(tmp_path / "run")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from rl_v2v_gan.files import locked\n"
         "with locked(sys.argv[1]):\n    print('held', flush=True); sys.stdin.read()", folder],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, universal_newlines=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(UserError, match="pid %d" % holder.pid):
            with locked(folder):
                pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with locked(folder):
        assert os.path.isfile(os.path.join(folder, LOCK_FILE))


def test_lock_leaves_the_folder_as_it_found_it(tmp_path):
    """The lock file goes when the block ends, however it ends; a folder the
    lock created goes too if nothing else was written into it."""
    new = str(tmp_path / "new")
    with pytest.raises(RuntimeError):
        with locked(new):
            assert os.listdir(new) == [LOCK_FILE]
            raise RuntimeError("failed run")
    assert not os.path.exists(new)
    kept = tmp_path / "kept"
    with locked(str(kept)):
        (kept / "rl_v2v_gan-1.index").write_text("a run's file")
    assert os.listdir(str(kept)) == ["rl_v2v_gan-1.index"]
    with locked(str(kept)):
        pass
    assert os.listdir(str(kept)) == ["rl_v2v_gan-1.index"]


def test_lock_on_a_regular_file_is_a_clear_error(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(UserError, match="--checkpoint_dir .*file: not a folder"):
        with locked(str(path)):
            pass
