programs.bat.enable = true;
