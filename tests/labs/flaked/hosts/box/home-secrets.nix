# A home-manager module of the lab, for the user ops.
{ ... }:
{
  age.secrets.mail.file = ./mail.age;
}
