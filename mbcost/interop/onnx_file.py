"""Reading an ``.onnx`` file for costing (:func:`mbcost.interop.onnx_import.read`): a regular file
only, under a size cap, and its weights never read.

A model file is a protobuf ``ModelProto`` whose weights are most of its bytes. Costing needs each
weight's name, type and dims, never its numbers, so :func:`skim` walks the protobuf wire format
of the file, read by position, and copies everything but the data of the large initializers (more than
64 numbers: the small ones are pads, axes and shapes, which the importer reads). Only the
kilobytes of the graph are parsed; a weight's bytes are skipped by their length, never touched,
so neither time nor memory grows with the weights (VGG-16's 553 MB file is read in a few MB).
External data is never opened, wherever it points: only its tensor's dims are read.

The cap (:func:`max_onnx_bytes`) is 2 GiB — protobuf's own limit on one message, so no
self-contained file is larger — or ``$MBCOST_MAX_ONNX_SIZE`` (``500MB``, ``4GiB``,
``300000000``).
"""
from __future__ import annotations

import os
import stat
from math import prod

from ..errors import SpecError, Where

MAX_ONNX_BYTES = 2 << 30
SIZE_VARIABLE = "MBCOST_MAX_ONNX_SIZE"
SMALL = 64  # an initializer of at most this many numbers keeps its values (onnx_rewrite.small)

# TensorProto's data fields (float_data, int32_data, string_data, int64_data, raw_data,
# double_data, uint64_data) and dims; GraphProto's initializer; ModelProto's graph
_TENSOR_DATA = {4, 5, 6, 7, 9, 10, 11}
_DIMS, _INITIALIZER, _GRAPH = 1, 5, 7


def max_onnx_bytes() -> int:
    """The largest .onnx file mbcost reads: $MBCOST_MAX_ONNX_SIZE, else 2 GiB."""
    text = os.environ.get(SIZE_VARIABLE)
    if text is None or not text.strip():
        return MAX_ONNX_BYTES
    from ..analyses.budget import parse_size

    return parse_size(text, field=SIZE_VARIABLE, unit="B")


def load(onnx, source: str, max_bytes: int | None = None):
    """The model of the file at ``source``, its large weights' data left out (:func:`skim`): a
    regular file only (never a device, a FIFO or a folder, whatever a symlink points at), of at
    most ``max_bytes``, both checked on the file once opened, so it cannot change in between."""
    cap = max_onnx_bytes() if max_bytes is None else max_bytes
    if "\0" in source:
        raise SpecError("the path contains a NUL byte (\\0), which no file name can",
                        where=Where(source.replace("\0", "\\0")))
    try:
        fd = os.open(source, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not block the open
    except FileNotFoundError:
        raise SpecError("no such file", where=Where(source)) from None
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror or exc}", where=Where(source)) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            what = "a folder" if stat.S_ISDIR(st.st_mode) else "a device, FIFO or socket"
            raise SpecError(f"is {what}, not a regular file: an ONNX model is read from a file", where=Where(source))
        if st.st_size > cap:
            raise SpecError(f"the file is {st.st_size:,} bytes, more than the {cap:,} mbcost reads "
                            f"(set {SIZE_VARIABLE}, e.g. {SIZE_VARIABLE}=4GB, to read larger ones)", where=Where(source))
        try:
            graph = skim(_Positioned(fd, st.st_size))
        except OSError as exc:
            raise SpecError(f"cannot read: {exc.strerror or exc}", where=Where(source)) from None
        except BadTensor as exc:
            raise SpecError(str(exc), where=Where(source)) from None
        except (ValueError, IndexError) as exc:
            raise SpecError(f"not a readable ONNX model (its protobuf encoding is broken: {exc})",
                            where=Where(source)) from None
    finally:
        os.close(fd)
    try:
        return onnx.ModelProto.FromString(graph)
    except Exception as exc:
        text = str(exc)
        raise SpecError(f"not a readable ONNX model ({type(exc).__name__}: {text[:200]})",
                        where=Where(source)) from None


class _Positioned:
    """The file's bytes by position, read with ``pread`` where asked for: a byte at a time
    through one cached 64 KiB block (the fields' keys and lengths), a slice in one read. A
    memory map would do as much, but the kernel maps in the pages around each key read, so a
    file of many weights would be mostly resident (ResNet-152: 160 of its 241 MB)."""

    BLOCK = 1 << 16

    def __init__(self, fd: int, size: int):
        self.fd, self.size = fd, size
        self.at, self.block = -1, b""

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, key):
        if isinstance(key, slice):
            start, stop = key.start, min(key.stop, self.size)
            base = self.at * self.BLOCK
            if self.at >= 0 and base <= start and stop <= base + len(self.block):
                return self.block[start - base:stop - base]
            data = os.pread(self.fd, stop - start, start)
            if len(data) != stop - start:
                raise ValueError("the file changed while being read")
            return data
        if not 0 <= key < self.size:
            raise IndexError("a field runs past the end of the file")
        at = key // self.BLOCK
        if at != self.at:
            self.at, self.block = at, os.pread(self.fd, self.BLOCK, at * self.BLOCK)
        try:
            return self.block[key - at * self.BLOCK]
        except IndexError:
            raise ValueError("the file changed while being read") from None


# --- the protobuf wire format (protobuf.dev/programming-guides/encoding) --------------------

def _varint(buf, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7
        if shift > 63:
            raise ValueError("a varint longer than 10 bytes")


def _encode(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _fields(buf, start: int, end: int):
    """(field number, wire type, where its key starts, where its key ends, where its value
    starts — after a length, for wire type 2 — and where it ends)."""
    i = start
    while i < end:
        key, j = _varint(buf, i)
        h = j
        field, wire = key >> 3, key & 7
        if wire == 0:
            k = _varint(buf, j)[1]
        elif wire == 1:
            k = j + 8
        elif wire == 5:
            k = j + 4
        elif wire == 2:
            n, j = _varint(buf, j)
            k = j + n
        else:
            raise ValueError(f"wire type {wire} of field {field}")
        if k > end:
            raise ValueError(f"field {field} runs past the end of its message")
        yield field, wire, i, h, j, k
        i = k


def _message(buf, start: int, end: int, rewrite: dict) -> bytes:
    """The message in ``buf[start:end]``, each length-delimited field of ``rewrite``'s numbers
    replaced by what its function makes of the field's bytes ."""
    out = []
    for field, wire, i, h, j, k in _fields(buf, start, end):
        if wire == 2 and field in rewrite:
            inner = rewrite[field](buf, j, k)
            out += [bytes(buf[i:h]), _encode(len(inner)), inner]
        else:
            out.append(bytes(buf[i:k]))
    return b"".join(out)


def _tensor(buf, start: int, end: int) -> bytes:
    """A TensorProto without its data where it holds more than :data:`SMALL` numbers."""
    fields = list(_fields(buf, start, end))
    dims = []
    for field, wire, _, _, j, k in fields:
        if field == _DIMS and wire == 0:
            dims.append(_varint(buf, j)[0])
        elif field == _DIMS and wire == 2:  # packed
            while j < k:
                d, j = _varint(buf, j)
                dims.append(d)
    keep = prod(dims) <= SMALL
    if not keep:  # its data is skipped, so its length is checked here, from the field's own length
        _check_raw_length(buf, fields, dims)
    return b"".join(bytes(buf[i:k]) for field, _, i, _, _, k in fields if keep or field not in _TENSOR_DATA)


# TensorProto.DataType → bits per element (STRING and the undefined type have no fixed size)
_BITS = {1: 32, 2: 8, 3: 8, 4: 16, 5: 16, 6: 32, 7: 64, 9: 8, 10: 16, 11: 64, 12: 32, 13: 64, 14: 64, 15: 128,
         16: 16, 17: 8, 18: 8, 19: 8, 20: 8, 21: 4, 22: 4}
_DATA_TYPE, _NAME, _RAW_DATA = 2, 8, 9


class BadTensor(ValueError):
    """An initializer whose stored bytes disagree with its dims: a corrupt file, said as such."""


def _check_raw_length(buf, fields, dims) -> None:
    data_type = next((_varint(buf, j)[0] for f, w, _, _, j, _ in fields if f == _DATA_TYPE and w == 0), 0)
    raw = next((k - j for f, w, _, _, j, k in fields if f == _RAW_DATA and w == 2), None)
    bits = _BITS.get(data_type)
    if raw is None or bits is None:
        return
    want = (prod(dims) * bits + 7) // 8
    if raw != want:
        name = next((bytes(buf[j:k]).decode("utf-8", "replace") for f, w, _, _, j, k in fields
                     if f == _NAME and w == 2), "")
        raise BadTensor(f"initializer {name!r}: expected {want:,} bytes of data for dims {list(dims)}, "
                        f"the file holds {raw:,}")


def _graph(buf, start: int, end: int) -> bytes:
    return _message(buf, start, end, {_INITIALIZER: _tensor})


def skim(buf) -> bytes:
    """A ModelProto's bytes with the data of its graph's large initializers left out (their
    name, type, dims and external-data entries kept): what the importer reads of a model."""
    return _message(buf, 0, len(buf), {_GRAPH: _graph})
