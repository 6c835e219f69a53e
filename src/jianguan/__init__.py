"""jianguan — 智慧监管平台: smart supervision of police detention facilities."""
