"""PRISM, the director of TALOS: a prompt (and optional source video facts) → ``cut_spec.json``.

The reference director here is rule-based and deterministic (:mod:`talos.prism.director`). A
real LLM-backed director can replace it: any service that answers ``POST /direct`` the same
way and writes a cut_spec that validates against ``talos/contracts/cut_spec.schema.json`` can
be pointed at by ``services.prism_url``.
"""
