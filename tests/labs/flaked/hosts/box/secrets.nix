# A module of the lab: sets what agenix's module declares.
{ ... }:
{
  age.secrets.wifi = {
    file = ./wifi.age;
    owner = "ops";
  };
}
