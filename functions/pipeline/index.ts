import { pipelineApp } from "./app";

export default pipelineApp;
