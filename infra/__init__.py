"""Clearloop's AWS deployment as code.

- :mod:`infra.template`: the deployment's own resources (table, keys, bucket, CDN, role, alarms),
  merged into the template ``chalice package`` writes, and the per-function finishing touches.
- :mod:`infra.build`: packages the app for the Lambda runtime and writes ``template.json``.
- :mod:`infra.deploy` / :mod:`infra.destroy`: what ``scripts/deploy`` and ``scripts/destroy`` run.

The operations guide (``site/docs/operations.md``) explains every choice made here.
"""
