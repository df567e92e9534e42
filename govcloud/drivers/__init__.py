"""Doors to the outside world: the only modules importing paramiko, ansible_runner, openstack."""
