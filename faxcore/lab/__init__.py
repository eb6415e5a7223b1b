"""The self-test lab: a Debian sid chroot running a PBX Asterisk and an ATA Asterisk."""
