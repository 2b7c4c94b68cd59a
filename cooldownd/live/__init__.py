"""The live path: a Bluetooth LE heart-rate strap, the workout detector and its journal."""
