"""Secure reading: S/MIME (CMS) and OpenPGP decryption and signatures, keys in the keyring."""
