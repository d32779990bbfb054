"""The option index: every option of the lab's pinned nixpkgs and home-manager, made by
Nix (`homelab options update`), read here into homelab.optionindex.model."""
