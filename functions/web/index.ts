import { webApp } from "./app";

export default webApp;
