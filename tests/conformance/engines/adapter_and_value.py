"""An adapter module that also imports the value class it adapts: the adapter is what the kit
must drive (its ``value`` makes leaves with a label)."""

from karpathy import Value

from micrograd.conformance import Adapter


class LabelledAdapter(Adapter):
    made = 0

    def value(self, x):
        LabelledAdapter.made += 1
        v = Value(x)
        v.label = f"x{LabelledAdapter.made}"
        return v

    def abs(self, a):
        raise NotImplementedError("no abs in this engine")
