"""Mutation testing of the engine and nn modules: ``python mutation/run.py``."""
