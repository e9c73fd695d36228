import { authApp } from "./app";

export default authApp;
