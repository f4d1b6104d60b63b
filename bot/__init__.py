"""csbot: 售后中差评沟通助手 (after-sales assistant for Taobao / Tmall review conversations)."""

__version__ = "0.1.0"
