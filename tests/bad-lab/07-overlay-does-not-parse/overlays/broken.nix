final: prev: {
  x = ;
}
