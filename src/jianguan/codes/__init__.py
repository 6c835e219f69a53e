"""Code tables (代码表): versioned reference data — gender, ethnicity, regions, legal measures…"""
