"""The episode semantics of SPEC §2 and its evaluation (exact, or sound enclosures).

`episode` is the single place that knows the semantics: it turns an objective or a constraint
into a `Quantity`, a Bellman-form description that every solver and checker evaluates.
"""
