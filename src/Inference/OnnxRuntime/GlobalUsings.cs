// The fetched sources expect this namespace in scope (the official build gets it from its own project file).
global using System.Reflection;
