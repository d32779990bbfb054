"""The lab's encrypted secrets, in agenix's format: age files in encrypted/, encrypted to
the SSH host keys of the hosts that use them and to the admins of lab.yaml."""
