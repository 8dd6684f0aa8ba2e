"""Compliance: the BankGrade rule pack and its plumbing.

Layout
------
``rules/<service>/<rule>.py``
    One pure function per rule: ``check(logical_id, resource, template)`` returns
    :class:`~constructs_lib.compliance.model.Compliance`.
``packs/bank_grade.py``
    Lists the rules with what a finding means (``info``) and why it matters
    (``explanation``). ``packs/__init__.py`` builds every pack the gate runs.
``plugin.py``
    Runs a pack as a CDK policy validation plugin. It applies no acknowledgements
    itself: :func:`constructs_lib.acceptance.accept` records them namespace-qualified
    (``namespacing.py``), so the CDK applies them in a plain ``cdk synth``.
``tree.py``
    Finding constructs by path and stack elements by logical id.

The gate that attaches every pack to an app lives in :mod:`constructs_lib.gate`.
"""
