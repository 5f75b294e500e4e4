"""Activation recomputation (checkpointing at network granularity) for the
training graph: with `--recompute on` a training-mode network call keeps only
its input and output for the backward pass and runs its forward again there,
so the paper's configuration fits one device's memory at the cost of one more
forward pass per differentiated call.
"""
import contextlib

from .tf_compat import tf


class Recompute(object):
    """Recomputed calls, optionally chained: in a `chain()` block (one training
    step's losses on one device) the recomputed calls run their backward
    passes one after another, in the order `tf.gradients` reaches them, so at
    most one call's activations are alive at a time. One object per graph,
    given to the networks that recompute (`networks.build_networks`)."""

    def __init__(self):
        self._chains = []     # open `chain()` blocks, innermost last; each the gradients so far

    @contextlib.contextmanager
    def chain(self):
        self._chains.append([])
        try:
            yield
        finally:
            self._chains.pop()

    def __call__(self, fn, x):
        """`fn(x, first)` whose inner activations are not kept for the backward pass.

        The forward (`first` True) runs as usual; its gradient is
        `tf.gradients` of a second forward (`first` False: it must not repeat
        side effects such as batch-norm updates) built once the output's
        gradient `dy` exists, under a control dependency on it (and, in a
        `chain()` block, on the previous recomputed call's gradients), so it
        runs during the backward pass. Several gradients through the same call
        (e.g. of the G and the D losses through a discriminator) share one
        recomputation. Exact for deterministic `fn`; the trainable variables
        fn reads must be resource variables (custom_gradient's rule).
        """
        again, order = [], self._chains[-1] if self._chains else []

        @tf.custom_gradient
        def call(x):
            def grad(dy, variables=()):
                if not again:
                    with tf.control_dependencies([dy] + order[-1:]):
                        x_again = tf.identity(x)
                    again.extend([x_again, fn(x_again, False)])
                grads = tf.gradients(again[1], [again[0]] + list(variables), dy)
                order.append(tf.group(*[g for g in grads if g is not None]))
                return grads[0], grads[1:]
            return fn(x, True), grad
        return call(x)
