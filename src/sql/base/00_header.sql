/*
 * afregning -- install script
 *
 * Assembled by the Makefile: first src/sql/base/ (what only a fresh install
 * does: the schema check, types, tables, roles, seed data and their dump
 * registration, as released in 0.1.0), then src/sql/ (functions, guards,
 * views, policies and grants, one file per concern, and every change made
 * to the tables since 0.1.0).  An upgrade from 0.1.0 runs
 * src/sql/upgrade/0.1.0--0.2.0.sql, which drops the 0.1.0 functions and
 * views, and then the same src/sql/ files, so both paths end in one catalog.
 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION afregning" to load this file. \quit
