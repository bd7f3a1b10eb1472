from shop.engine import Value  # noqa: F401  (absolute, as learners often write it)
