-- sample database of the "webapp" role (run as postgres)
CREATE ROLE govapp LOGIN;
CREATE DATABASE govapp OWNER govapp ENCODING 'UTF8' TEMPLATE template0;
