"""Orchestration: inputs, schema, checks runner, results, policy and configuration."""
