mod kpi;
