from ciiguard.cli import console

console()
