from shop.engine import Value  # absolute, as learners often write it
