-- Runs once, when the postgres volume is first initialised: one database per service.
CREATE DATABASE orders;
CREATE DATABASE inventory;
CREATE DATABASE aftersales;
CREATE DATABASE gateway;
