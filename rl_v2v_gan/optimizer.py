"""Adam on flat moment vectors (Adam is a choice: the paper's sentence
naming its optimizer is cut).

`tf.train.AdamOptimizer` gives every variable two slot variables and one
update op: ~13 graph ops per variable, and the training graphs have hundreds
of variables (pre-training at the CPU preset: 240 trainable, 3,326 Adam ops
and 480 slot variables, which the saver and the initializer also pay for).
`FlatAdam` computes the same update on all variables of one `apply_gradients`
at once: their gradients concatenated into one vector, one pair of moment
vectors per variable list, the step split back and subtracted from each
variable: ~3 ops per variable.
"""
import numpy as np

from .tf_compat import tf


class FlatAdam(object):
    """Adam with TensorFlow's update, element for element (its ApplyAdam
    kernel, in float32):
        alpha = lr sqrt(1 - beta2^t) / (1 - beta1^t)
        m += (g - m)(1 - beta1);  v += (g² - v)(1 - beta2)
        var -= m alpha / (sqrt(v) + epsilon)
    Moments are kept per variable list (`<name>/<networks>/m` and `/v`); the
    powers beta^t (`<name>/beta1_power`, `beta2_power`) are shared by every
    `apply_gradients` of the optimizer, as `tf.train.AdamOptimizer`'s are.
    Variables whose gradient is None are left alone, as there.
    """

    def __init__(self, learning_rate, beta1=0.9, beta2=0.999, epsilon=1e-8, name="Adam"):
        self.learning_rate, self.name = learning_rate, name
        self.beta1, self.beta2, self.epsilon = (np.float32(v) for v in (beta1, beta2, epsilon))
        self._moments, self._powers = {}, None

    def _variable(self, name, shape, value):
        with tf.variable_scope(self.name):
            return tf.get_variable(name, shape, tf.float32, tf.constant_initializer(value),
                                   trainable=False, use_resource=True)

    def _moments_of(self, variables):
        """`(m, v)` for this list of variables, created on first use."""
        if variables not in self._moments:
            size = sum(v.shape.num_elements() for v in variables)
            scope = "_".join(sorted({v.op.name.split("/")[0] for v in variables}))
            taken = {m.op.name.rsplit("/", 1)[0] for pair in self._moments.values() for m in pair}
            if "%s/%s" % (self.name, scope) in taken:
                scope += "_%d" % len(self._moments)    # another list of the same networks
            self._moments[variables] = tuple(self._variable(scope + "/" + k, [size], 0.0)
                                             for k in ("m", "v"))
        return self._moments[variables]

    def apply_gradients(self, grads_and_vars):
        """One Adam step on `(gradient, variable)` pairs; returns the op."""
        pairs = [(g, v) for g, v in grads_and_vars if g is not None]
        if not pairs:
            raise ValueError("%s: no variable has a gradient" % self.name)
        grads, variables = zip(*pairs)
        if self._powers is None:
            self._powers = (self._variable("beta1_power", [], self.beta1),
                            self._variable("beta2_power", [], self.beta2))
        beta1_power, beta2_power = self._powers
        m, v = self._moments_of(tuple(variables))
        one = np.float32(1.0)
        with tf.name_scope(self.name + "/"):
            lr = tf.cast(self.learning_rate, tf.float32)
            alpha = lr * tf.sqrt(one - beta2_power) / (one - beta1_power)
            shapes = {}

            def shape(dims):
                """One constant per distinct shape."""
                if tuple(dims) not in shapes:
                    shapes[tuple(dims)] = tf.constant(dims, tf.int32)
                return shapes[tuple(dims)]

            g = tf.concat([tf.reshape(grad, shape([-1])) for grad in grads], 0)
            m_t = m + (g - m) * (one - self.beta1)
            v_t = v + (tf.square(g) - v) * (one - self.beta2)
            step = m_t * alpha / (tf.sqrt(v_t) + self.epsilon)
            sizes = [var.shape.num_elements() for var in variables]
            updates = [m.assign(m_t), v.assign(v_t)] + [
                var.assign_sub(tf.reshape(d, shape(var.shape.as_list())), read_value=False)
                for var, d in zip(variables, tf.split(step, sizes))]
            with tf.control_dependencies(updates):
                return tf.group(beta1_power.assign(beta1_power * self.beta1),
                                beta2_power.assign(beta2_power * self.beta2))
