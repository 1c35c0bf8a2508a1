"""The SSH farm behind fabfile.py: hosts.yaml, verified connections, per-host steps, reports."""
