# an overlay of the lab: every host's pkgs gets `hello-lab`
final: prev: {
  hello-lab = prev.hello;
}
