"""Edges found by the second pass of mutation testing of data.py and training.py: each test pins a behaviour that a
hand-made mutant (a flipped comparison, a dropped check or branch, a wrong dtype, default, constant or message, an
argument checked too late) changed while the other tests passed.  The first pass's mutants
(test_data_training_mutants.py) were not repeated.

141 mutants (80 of ``tinygrad_edu/data.py``, 61 of ``tinygrad_edu/training.py``); 77 killed before these tests,
124 after.  The 17 left are equivalent.  No defect found.  (Screened with tests/test_data.py, test_data_edges.py
and test_data_training_mutants.py for data.py; tests/test_training.py, test_training_edges.py,
test_data_training_mutants.py and test_resume.py for training.py, their Newton cases and the weight-decay advice
test deselected for speed; the training survivors were rerun with those and test_optim.py, which killed none.)

Equivalent mutants, left without a test:

- ``xsquared`` drawing from another stream name (``generator(seed, "xsquared2")``): other samples, but none is
  documented, only that the same seed gives the same samples, which still holds.
- ``load_digits`` catching no ``UnicodeDecodeError``: it is a ``ValueError``, caught all the same.
- ``train_test_split``, ``1 <= len(test_idx)`` → ``0 <=``: the test part is never empty for n ≥ 1 (the ceiling of
  a positive product; stratified, every class gives at least one), and n = 0 fails the upper bound ``n - 1``.
- ``_read_up_to`` reading pieces of 4 kB instead of 4 MB, or returning the joined pieces instead of ``break``: the
  same bytes.
- ``read_idx``, ``len(head) == 4`` → ``>= 4``: at most 4 bytes are read for the head.
- ``_digest`` choosing md5 for ``len != 64`` instead of ``== 32``: only 32 or 64 hex digits pass the checks.
- ``_fetch`` refusing only fewer bytes than announced (``<`` for ``!=``): urllib never delivers more than the
  Content-Length (http.client stops there; ``file:`` announces the file's size).
- ``_fetch`` not closing the ``HTTPError`` (or touching the file after the rename): the error's response is closed
  when it is collected, without a ResourceWarning even under ``-X dev``; a touch changes only the mtime.
- ``load_mnist`` dividing by the int 255 instead of ``np.asarray(255, dtype)``: numpy ≥ 2 (required) keeps the
  float dtype for a Python int (NEP 50).
- ``download_mnist`` without ``isinstance(kind, str)``: a non-str is equal to none of the three names, so the
  same ValueError.
- ``fit`` not converting integer or bool inputs to float64: ``Value`` converts them itself (the model still gets
  float64; see the test below).
- ``forward_backward`` checking a zero norm after the first pass too: ``_check_gradient`` then raises nothing
  (its "no gradient" error is for the first pass; a norm of 0 is finite).
- ``_final_cost`` outside ``no_grad()``: the graph it builds is dropped; no backward pass, no ``grad`` changed.
- ``_show_progress``, ``<= 0.2`` → ``< 0.2``: "at most every 0.2 s" holds either way at exactly 0.2 s.
- ``_mini_batch_episode`` weighting by ``len(batch_targets)``: batches come in pairs of the same length.
"""

import inspect
import io
import signal
import sys
import threading
import time
import types
import urllib.request

import numpy as np
import pytest
from helpers_data_files import Server, digits_text, idx_bytes, make_mnist_dir, write_file, write_gz
from helpers_interrupts import interrupting_updates  # Ctrl-C sent in the middle of an update
from helpers_models import Scripted  # an optimizer that sets scripted values: every cost known by hand

from tinygrad_edu import Value, data, nn, optim, training
from tinygrad_edu.data import (
    _DIGITS_MAX_BYTES,
    MNIST_FILES,
    MNIST_URL_ENV,
    DownloadError,
    batches,
    download_mnist,
    load_digits,
    load_mnist,
    one_hot,
    read_idx,
    train_test_split,
    xsquared,
)
from tinygrad_edu.losses import squared_error
from tinygrad_edu.training import History, fit

# --------------------------------------------------------------------------------------------------------- data


@pytest.mark.parametrize("label, pixel", [("2.5", "5"), ("-1", "5"), ("3", "-1")])
def test_load_digits_refuses_labels_that_are_no_digit_and_negative_pixels(tmp_path, label, pixel):
    """Labels are whole numbers 0..9 and pixels whole numbers 0..16: a label 2.5 (silently read as 2), a label -1
    or a pixel -1 is damage, as a label 10 or a pixel 17 is."""
    path = write_gz(tmp_path / "d.csv.gz", digits_text(label=label, pixel=pixel))
    what = "labels \\(last column\\) must be whole numbers 0\\.\\.9" if pixel == "5" else "pixel values must be whole"
    with pytest.raises(ValueError, match=rf"^load_digits: digits file .*d\.csv\.gz' is damaged: {what}"):
        load_digits(path)


def test_load_digits_reads_a_file_unpacking_to_exactly_its_size_limit(tmp_path):
    """Only a file unpacking to *more* than the limit (4 MiB) is refused: a valid table padded with blanks to exactly
    4 MiB is read; one byte more is refused."""
    text = digits_text(pixel=8, label=1)
    padded = text[:-1] + " " * (_DIGITS_MAX_BYTES - len(text)) + "\n"
    assert len(padded) == _DIGITS_MAX_BYTES == 4 << 20
    inputs, labels = load_digits(write_gz(tmp_path / "exact.csv.gz", padded))
    assert (inputs == 0.5).all() and (labels == 1).all()
    with pytest.raises(ValueError, match=r"unpacks to more than 4,194,304 bytes"):
        load_digits(write_gz(tmp_path / "over.csv.gz", " " + padded))


def test_stratify_names_complex_labels_holding_nan():
    """Complex labels are checked for NaN as float ones are; they were left to fail later as a class of 0 samples."""
    with pytest.raises(ValueError, match=r"^train_test_split: stratify needs class labels, but the labels hold NaN"):
        train_test_split(np.zeros(6), np.array([1, 1, 2, 2, np.nan, np.nan], dtype=complex), 0.5, stratify=True)


def test_one_hot_checks_classes_and_the_labels_dtype_even_for_no_labels():
    """classes=0 is refused by name (not as "label 0 is outside 0..-1"), and empty labels of a type that is no
    integer (bool) are a TypeError as non-empty ones are; only an empty list (float64 to numpy) means no labels."""
    with pytest.raises(ValueError, match=r"^one_hot: classes must be an integer >= 1, got 0$"):
        one_hot([0], classes=0)
    with pytest.raises(ValueError, match=r"^one_hot: classes must be an integer >= 1, got 0$"):
        one_hot([], classes=0)
    with pytest.raises(TypeError, match=r"^one_hot: labels must be integers, got dtype bool; .*labels\.astype\(int\)"):
        one_hot(np.array([], dtype=bool))
    assert one_hot([]).shape == (0, 10)


def test_one_hot_names_the_first_label_out_of_range():
    """Of several bad labels the message names the first, 12 (of 3, 12, -1, 10)."""
    with pytest.raises(ValueError, match=r"^one_hot: label 12 is outside 0\.\.9 \(classes=10\), at index 1 of labels "
                                         r"of shape \(4,\)$"):
        one_hot([3, 12, -1, 10])


def test_one_shuffled_batch_of_all_samples_is_shuffled_within():
    """Shuffling orders the samples, not only which batch each lands in: a single batch of all 12 samples comes in
    a random order (the identity order has probability 1/12! for a seeded draw), pairs kept together."""
    x = np.arange(12.0)[:, None]
    [(bx, by)] = batches(x, 10 * x[:, 0], batch_size=12, seed=0)
    assert sorted(bx[:, 0]) == list(range(12)) and bx[:, 0].tolist() != list(range(12))
    assert (by == 10 * bx[:, 0]).all()


def test_read_idx_refuses_ndim_zero_by_name(tmp_path):
    """ndim must be ≥ 1: ndim=0 is an argument error, not a complaint about the file's magic number."""
    path = write_file(tmp_path / "labels", idx_bytes([1, 2]))
    with pytest.raises(ValueError, match=r"^read_idx: ndim must be an integer >= 1, got 0$"):
        read_idx(path, ndim=0)


def test_read_idx_truncated_file_message_counts_the_whole_file(tmp_path):
    """A label file declaring 5 values needs 4 + 4 + 5 = 13 bytes; cut to 11 bytes, it says "found 11" (bytes of
    the file, header included, as "need 13" does)."""
    path = write_file(tmp_path / "labels", idx_bytes([1, 2, 3, 4, 5])[:11])
    with pytest.raises(ValueError, match=r"file is truncated: dimensions \(5,\) need 13 bytes, found 11$"):
        read_idx(path)


def test_read_idx_gives_an_array_one_may_change(tmp_path):
    """The result is the caller's own array (writeable), not a read-only view of the bytes read: scaling the
    images in place works."""
    images = read_idx(write_file(tmp_path / "images", idx_bytes(np.full((1, 2, 2), 4))), ndim=3)
    images //= 2
    assert images.flags.writeable and images.tolist() == [[[2, 2], [2, 2]]]


def test_read_idx_refuses_a_header_of_zero_dimensions(tmp_path):
    """00 00 08 00 declares no dimensions: no IDX file of MNIST's kind; it was read as a single number."""
    path = write_file(tmp_path / "scalar", b"\x00\x00\x08\x00\x07")
    with pytest.raises(ValueError, match=r"header for 0 dimensions is incomplete or empty"):
        read_idx(path)


def test_read_idx_names_the_magic_number_expected_for_ndim(tmp_path):
    """A 3-dimensional file read with ndim=1 names labels' magic number 0x00000801 as the one expected."""
    path = write_file(tmp_path / "images", idx_bytes(np.zeros((1, 2, 2))))
    with pytest.raises(ValueError, match=r"magic number 0x00000803 says 3 dimensions, expected 0x00000801 \(1 "):
        read_idx(path, ndim=1)


def test_read_idx_suggests_gzip_only_for_gzips_two_leading_bytes(tmp_path):
    """The "name it *.gz" hint is for files starting 1f 8b; one starting 1f 00 only gets the bad magic number."""
    path = write_file(tmp_path / "odd", b"\x1f\x00\x08\x01" + (1).to_bytes(4, "big") + b"\x05")
    with pytest.raises(ValueError, match=r"bad magic number 0x1f000801, not an IDX file \(the first two bytes must "
                                         r"be zero\)$"):
        read_idx(path)


def _test_files(folder):
    """MNIST's two test files (3 images of 28x28) in ``folder``, gzip-compressed; returns their sizes."""
    folder.mkdir()
    make_mnist_dir(folder, n_train=1, n_test=3)
    return {name: (folder / name).stat().st_size for stem in MNIST_FILES["test"] for name in [f"{stem}.gz"]}


def test_a_download_of_exactly_the_byte_limit_is_kept(tmp_path, monkeypatch):
    """More than MAX_DOWNLOAD_BYTES is cut off; a file of exactly that many bytes is not."""
    sizes = _test_files(tmp_path / "mirror")
    monkeypatch.setattr(data, "MAX_DOWNLOAD_BYTES", max(sizes.values()))
    paths = download_mnist(tmp_path / "cache", kind="test", url=(tmp_path / "mirror").as_uri() + "/",
                           checksums=dict.fromkeys(sizes))
    assert {p.name: p.stat().st_size for p in paths} == sizes


def test_checksums_may_be_any_mapping(tmp_path):
    """checksums is a Mapping (documented "maps file names to digests"), not only a dict: a read-only mapping
    works."""
    sizes = _test_files(tmp_path / "mirror")
    paths = download_mnist(tmp_path / "cache", kind="test", url=(tmp_path / "mirror").as_uri() + "/",
                           checksums=types.MappingProxyType(dict.fromkeys(sizes)))
    assert [p.name for p in paths] == list(sizes)


def test_a_content_length_that_is_no_number_is_ignored(tmp_path, monkeypatch):
    """Only a Content-Length of digits is compared with the bytes received; a malformed one ("12 bytes") is no
    crash (int's ValueError from the header), the file is taken as it arrived."""
    class Response(io.BytesIO):
        headers = {"Content-Length": "12 bytes"}

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: Response(b"body"))
    paths = download_mnist(tmp_path, kind="test", url="http://mirror.invalid/", checksums={
        "t10k-images-idx3-ubyte.gz": None, "t10k-labels-idx1-ubyte.gz": None})
    assert [p.read_bytes() for p in paths] == [b"body", b"body"]


def test_an_http_error_names_its_code_and_reason(tmp_path):
    """HTTP failure says the status code and its reason: "HTTP 404 Not Found"."""
    server = Server()
    try:
        with pytest.raises(DownloadError, match=r"t10k-images-idx3-ubyte\.gz failed: HTTP 404 Not Found$"):
            download_mnist(tmp_path, kind="test", url=server.url)
    finally:
        server.close()


def test_an_environment_url_without_scheme_is_named_as_the_variable(tmp_path, monkeypatch):
    """The message names where the bad URL came from: $TINYGRAD_EDU_MNIST_URL, not the url argument."""
    monkeypatch.setenv(MNIST_URL_ENV, "mirror.example/mnist/")
    with pytest.raises(ValueError, match=r"^download_mnist: \$TINYGRAD_EDU_MNIST_URL must be a URL with a scheme"):
        download_mnist(tmp_path, kind="test")


@pytest.mark.parametrize("kwargs, pattern", [
    ({"dtype": np.complex64}, r"^load_mnist: dtype must be a floating-point type .* got complex64$"),
    ({"download": 0}, r"^load_mnist: download must be True or False, got int 0$"),
    ({"flatten": "no"}, r"^load_mnist: flatten must be True or False, got str"),
])
def test_load_mnist_checks_dtype_download_and_flatten(tmp_path, kwargs, pattern):
    """A complex dtype is no brightness type, and download/flatten take True or False only: 0 or "no" would be
    read by truth value ("no" flattening the images)."""
    make_mnist_dir(tmp_path, n_train=1, n_test=1)
    with pytest.raises(TypeError, match=pattern):
        load_mnist(tmp_path, kind="test", **kwargs)


def test_load_mnist_names_the_files_whose_counts_differ_by_their_names(tmp_path):
    """3 images but 2 labels: the message names the two files by name (as written in the folder), with both
    counts."""
    make_mnist_dir(tmp_path, n_train=1, n_test=3)
    write_file(tmp_path / "t10k-labels-idx1-ubyte.gz", idx_bytes([1, 2]))
    with pytest.raises(ValueError, match=r"^load_mnist: t10k-images-idx3-ubyte\.gz holds 3 images but "
                                         r"t10k-labels-idx1-ubyte\.gz holds 2 labels$"):
        load_mnist(tmp_path, kind="test")


def test_xsquared_names_low_and_high_as_given():
    """The message for low ≥ high shows each value under its own name."""
    with pytest.raises(ValueError, match=r"^xsquared: need low < high, got low=1, high=0$"):
        xsquared(3, low=1, high=0)


def test_labels_and_targets_have_their_documented_dtypes(tmp_path):
    """Documented: load_digits and load_mnist give int64 labels (not the file's uint8 or another int), one_hot
    float64 targets."""
    make_mnist_dir(tmp_path, n_train=1, n_test=2)
    assert load_mnist(tmp_path, kind="test").labels.dtype == np.int64
    assert load_digits(write_gz(tmp_path / "d.csv.gz", digits_text())).labels.dtype == np.int64
    assert one_hot([1, 2]).dtype == np.float64


# ----------------------------------------------------------------------------------------------------- training


def _line(w):
    """The model x ↦ x·w for one weight w (a (1, 1) Value)."""
    return lambda inputs: inputs @ w


@pytest.mark.parametrize("x", [np.array([[True], [False]]), np.array([[1], [0]])], ids=["bool", "int"])
def test_bool_and_int_inputs_are_numbers_that_reach_the_model_as_float64(x):
    """bool and integer inputs are numbers: converted to float64 before the model sees them.  w = 0, t = (2, 0):
    C = ((0 − 2)² + 0²)/2 = 2."""
    seen, w = set(), Value(np.zeros((1, 1)))

    def model(inputs):
        seen.add(inputs.data.dtype)
        return inputs @ w

    history = fit(model, x, np.array([[2.0], [0.0]]), optimizer=Scripted([w]), episodes=1, progress=False)
    assert history.cost == [2.0] and seen == {np.dtype(np.float64)}


@pytest.mark.parametrize("inputs, targets, pattern", [
    (3.0, 3.0, r"^fit: inputs must hold one entry per sample, got a single number$"),
    (np.zeros((0, 1)), np.zeros((0, 1)), r"^fit: there are no samples to train on$"),
])
def test_a_single_number_or_no_samples_is_named(inputs, targets, pattern):
    """fit names inputs that are one number, or no samples, rather than failing inside numpy or the model."""
    w = Value(np.zeros((1, 1)))
    with pytest.raises(ValueError, match=pattern):
        fit(_line(w), inputs, targets, optimizer=Scripted([w]), episodes=1, progress=False)


def test_batch_size_zero_is_named_as_fits_argument():
    """batch_size=0 is fit's argument error, said by fit, not by data.batches which fit calls later."""
    w = Value(np.zeros((1, 1)))
    with pytest.raises(ValueError, match=r"^fit: batch_size must be an integer >= 1, got 0$"):
        fit(_line(w), np.ones((2, 1)), np.ones((2, 1)), optimizer=Scripted([w]), episodes=1, batch_size=0,
            progress=False)


def test_a_callers_own_ctrl_c_handler_is_left_alone():
    """Only where Ctrl-C is Python's own KeyboardInterrupt does fit take it over; a handler of the caller's own is
    still in place after fit, not replaced by Python's default."""
    def handler(signum, frame):
        pass

    w = Value(np.zeros((1, 1)))
    old = signal.signal(signal.SIGINT, handler)
    try:
        fit(_line(w), np.ones((2, 1)), np.ones((2, 1)), optimizer=Scripted([w]), episodes=2, progress=False)
        assert signal.getsignal(signal.SIGINT) is handler
    finally:
        signal.signal(signal.SIGINT, old)


def test_fit_trains_in_a_thread_other_than_the_main_one():
    """Signal handlers can only be set in the main thread: elsewhere fit trains without taking over Ctrl-C."""
    w, result = Value(np.zeros((1, 1))), {}

    def train():
        result["history"] = fit(_line(w), np.ones((1, 1)), np.ones((1, 1)), optimizer=optim.GradientDescent([w], 0.25),
                                episodes=2, progress=False)

    thread = threading.Thread(target=train)
    thread.start()
    thread.join()
    # C = (w − 1)²: w = 0 → 0.5 (∂C/∂w = −2) → 0.75; costs 1, 0.25, then 0.0625
    assert result["history"].cost == [1.0, 0.25] and result["history"].final_cost == 0.0625


def test_an_optimizer_without_zero_grad_is_named():
    """fit needs step() and zero_grad(); an optimizer with step() only is named, as one without step() is."""
    class StepOnly:
        def __init__(self, params):
            self.params = params

        def step(self, closure, cost=None):
            pass

    w = Value(np.zeros((1, 1)))
    with pytest.raises(TypeError, match=r"^fit: optimizer must have step\(\) and zero_grad\(\), got StepOnly$"):
        fit(_line(w), np.ones((1, 1)), np.ones((1, 1)), optimizer=StepOnly([w]), episodes=1, progress=False)


def test_a_step_whose_signature_cannot_be_read_is_given_the_benefit_of_the_doubt():
    """A step whose signature inspect cannot read (here: a bad __signature__) is assumed to take cost=."""
    class Step:
        __signature__ = "unreadable"

        def __init__(self):
            self.costs = []

        def __call__(self, closure, cost=None):
            self.costs.append(cost.item())

    w = Value(np.zeros((1, 1)))
    optimizer = Scripted([w])
    optimizer.step = Step()
    with pytest.raises(TypeError):
        inspect.signature(optimizer.step)
    fit(_line(w), np.ones((1, 1)), np.full((1, 1), 3.0), optimizer=optimizer, episodes=2, progress=False)
    assert optimizer.step.costs == [9.0, 9.0]


def test_an_optimizer_listing_no_parameters_trains_the_models():
    """An optimizer whose .params is empty is like one without: fit falls back to the model's parameters rather than
    refuse with "none of the optimizer's parameters belong to the model" (no update is made here: C = (0·1 − 1)² = 1
    twice)."""
    net = nn.MLP([1, 1], output_activation="identity", rng=0)
    for p in net.parameters():
        p.data[...] = 0.0
    history = fit(net, np.ones((1, 1)), np.ones((1, 1)), optimizer=Scripted([]), episodes=2, progress=False)
    assert history.cost == [1.0, 1.0] and history.stopped == "episodes"


def test_an_optimizer_may_train_parameters_beyond_the_models():
    """Only an optimizer none of whose parameters belong to the model is refused: the model's parameters plus an
    offset b that the cost adds to the outputs train together (b moves from 0)."""
    net = nn.MLP([1, 2, 1], rng=0)
    b = Value(np.zeros(1))
    x = np.linspace(-1, 1, 6).reshape(-1, 1)
    history = fit(net, x, x + 3, cost=lambda outputs, targets: squared_error(outputs + b, targets),
                  optimizer=optim.GradientDescent([*net.parameters(), b], 0.1), episodes=2, progress=False)
    assert history.episodes == 2 and b.data.item() != 0.0


def test_mini_batch_tol_is_compared_with_the_gradient_norm_not_the_cost():
    """C = (w·1 − 3)² at w = 0 (no updates): C = 9, ‖∇C‖ = 6.  With tol = 6 the norm stops training after the first
    episode, though the cost is above tol."""
    w = Value(np.zeros((1, 1)))
    history = fit(_line(w), np.ones((1, 1)), np.full((1, 1), 3.0), optimizer=Scripted([w]), episodes=3,
                  batch_size=1, tol=6.0, progress=False)
    assert history.stopped == "tol" and history.cost == [9.0] and history.gradient_norm == [6.0]


def test_the_progress_bar_counts_episodes_and_is_closed(monkeypatch):
    """The bar's unit is "episode" (tqdm's own is "it"), and fit closes its bar when training ends."""
    pytest.importorskip("tqdm")

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stderr", Terminal())
    w = Value(np.zeros((1, 1)))
    fit(_line(w), np.ones((1, 1)), np.ones((1, 1)), optimizer=Scripted([w]), episodes=3)
    assert "episode/s" in sys.stderr.getvalue() or "s/episode" in sys.stderr.getvalue()

    class Bar:
        closed = False

        def update(self, n):
            pass

        def set_postfix(self, **values):
            pass

        def close(self):
            self.closed = True

    bar = Bar()
    monkeypatch.setattr(training, "_progress_bar", lambda enabled, episodes, label: bar)
    fit(_line(w), np.ones((1, 1)), np.ones((1, 1)), optimizer=Scripted([w]), episodes=3)
    assert bar.closed


def test_history_seconds_count_from_the_start_of_training():
    """seconds is the time since training started (documented: each call counts from 0), not a clock reading."""
    w = Value(np.zeros((1, 1)))
    before = time.perf_counter()
    history = fit(_line(w), np.ones((1, 1)), np.ones((1, 1)), optimizer=Scripted([w]), episodes=3, progress=False)
    took = time.perf_counter() - before
    assert 0 <= history.seconds[0] <= history.seconds[-1] <= took


def test_history_repr_shows_costs_to_four_digits_and_a_mapping_of_costs_as_itself():
    """First and final cost to 4 significant digits; a cost field that is no list (a dict, filled by hand) prints
    as itself rather than the repr raising KeyError."""
    shown = repr(History(cost=[1.23456789], final_cost=0.000123456, label="x"))
    assert shown == "History(label='x', episodes=1, first_cost=1.235, final_cost=0.0001235, stopped='')"
    assert "cost={'a': 1.0}" in repr(History(cost={"a": 1.0}))


def test_a_hand_filled_history_counts_its_costs_as_episodes():
    """episodes is the number of costs recorded; a History filled by hand with costs only (for plot_history) has
    as many episodes as costs."""
    assert History(cost=[3.0, 2.0, 1.0]).episodes == 3


def test_ctrl_c_in_a_mini_batch_episode_that_also_meets_tol_says_interrupted(monkeypatch):
    """Ctrl-C during the first of two batches cuts the episode short; its average ‖∇C‖ (1, at C = (w − ½)², w = 0)
    is below tol = 10, yet training ended because of Ctrl-C, on part of an episode: stopped is "interrupted"."""
    interrupting_updates(monkeypatch, at=1)
    w = Value(np.zeros((1, 1)))
    history = fit(_line(w), np.ones((2, 1)), np.full((2, 1), 0.5), optimizer=optim.GradientDescent([w], 0.25),
                  episodes=3, batch_size=1, tol=10.0, progress=False)
    assert history.stopped == "interrupted" and history.gradient_norm == [1.0] and w.data.item() == 0.25
