"""Compliance: the BankGrade rule pack, the acknowledgement registry and their plumbing.

Layout
------
``rules/<service>/<rule>.py``
    One pure function per rule: ``check(logical_id, resource, template)`` returns
    :class:`~constructs_lib.compliance.model.Compliance`.
``packs/bank_grade.py``
    Lists the rules with what a finding means (``info``) and why it matters
    (``explanation``). ``packs/__init__.py`` builds every pack the gate runs.
``plugin.py``
    Runs a pack as a CDK policy validation plugin, honouring
    ``Validations.of(scope).acknowledge(...)`` like the cdk-nag packs.
``acknowledgements.py``
    THE registry of accepted findings and :func:`apply_acknowledgements`.
``namespacing.py``
    Makes acknowledged findings of every pack visible (with reasons) in the
    CDK's ``validation-report.json``.

The gate that attaches all of this to every stage lives in :mod:`cdk_app.gate`.
"""
