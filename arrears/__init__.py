"""Arrears — 物业费催收系统."""
